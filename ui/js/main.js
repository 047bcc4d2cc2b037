// Wiring only: load the app state, mount the views, route between them, keep the header in step.

// When this module began to run (the start-up benchmark's marks).
const scriptStart = performance.timeOrigin + performance.now();

// WebKitGTK's own scrollbars animate after every layout (see styles.css): draw them from CSS.
if (/Linux/.test(navigator.userAgent)) document.documentElement.dataset.scrollbars = 'css';

// Keep page errors where the end-to-end test (and Copy diagnostics) can read them.
const pageErrors = [];
window.__inviteDeskErrors = pageErrors;
window.addEventListener('error', (e) => pageErrors.push(String(e.message || e)));
window.addEventListener('unhandledrejection', (e) => pageErrors.push(`unhandled: ${JSON.stringify(e.reason)}`));
const consoleError = console.error.bind(console);
console.error = (...args) => { pageErrors.push(args.map(String).join(' ')); consoleError(...args); };
// A file dropped anywhere but the paste box would make the web view open it in place of the app.
// Dragged text keeps its default (it can be dropped into a field).
for (const type of ['dragover', 'drop']) {
  window.addEventListener(type, (e) => { if (e.dataTransfer?.types.includes('Files')) e.preventDefault(); });
}

import * as api from './api.js';
import { app, subscribe, reloadWorkspaces, selectWorkspace, loadForms } from './store.js';
import { el, clear, toast, newestOnly, firstPaintDone } from './ui.js';
import { errorBox } from './errors.js';
import * as empty from './views/empty.js';

// Only the first screen's modules load before it is painted: each module is one more request over
// the app's protocol first. The empty screen is built at once; Invite, the first screen once a
// workspace exists, is loaded when the workspace list says so (index.html preloads it). The other
// screens load and are built right after that paint (`mountTheRest`).
const LATER = {
  invite: () => import('./views/invite.js'),
  invitations: () => import('./views/invitations.js'),
  workspaces: () => import('./views/workspaces.js'),
  history: () => import('./views/history.js'),
};
const VIEWS = Object.keys(LATER);
const NEEDS_WORKSPACE = new Set(['invite', 'invitations', 'history']);
/** Built screens, by name. */
const mounted = new Map();
/** Loads under way or done (the screens', and the banners'), by name. */
const loading = new Map();
let current = 'invite';
let nav;

/** Runs `load` once for `name`; a failed load is tried again on the next call. */
function loadOnce(name, load) {
  let p = loading.get(name);
  if (!p) {
    p = load();
    p.catch(() => loading.delete(name));
    loading.set(name, p);
  }
  return p;
}

/** Loads and builds a screen once. */
function mount(name) {
  return loadOnce(name, () => LATER[name]().then((view) => {
    view.mount(document.getElementById(`view-${name}`), nav);
    mounted.set(name, view);
  }));
}

/**
 * The banners' module, loaded and mounted on first use or right after the first paint: nothing
 * it shows is known before that paint (the keychain is probed once the page reports it), and each
 * module loaded first is one more request before it.
 */
function withBanners() {
  return loadOnce('banners', () => import('./views/banners.js').then((b) => {
    b.mount(document.getElementById('banners'), nav);
    return b;
  }));
}

function show(name) {
  if (!VIEWS.includes(name)) return;
  current = name;
  for (const b of document.querySelectorAll('.nav-tab')) {
    if (b.dataset.view === name) b.setAttribute('aria-current', 'page');
    else b.removeAttribute('aria-current');
  }
  const useEmpty = NEEDS_WORKSPACE.has(name) && app.workspaces.length === 0;
  if (!useEmpty && !mounted.has(name)) {
    // Asked for before it was built (a click in the first instant after start).
    mount(name).then(() => { if (current === name) show(name); }, (e) => toast(`Could not open this screen: ${e.message || e}`));
    return;
  }
  document.getElementById('view-empty').hidden = !useEmpty;
  for (const v of VIEWS) {
    document.getElementById(`view-${v}`).hidden = useEmpty || v !== name;
  }
  document.body.dataset.view = useEmpty ? 'empty' : name;
  if (!useEmpty) mounted.get(name).shown?.();
}

function renderSwitcher() {
  const box = document.getElementById('switcher');
  const sel = document.getElementById('workspace-select');
  box.hidden = app.workspaces.length === 0;
  clear(sel);
  for (const w of app.workspaces) {
    sel.append(el('option', { value: w.id, selected: w.id === app.currentId }, w.name));
  }
}

async function start() {
  nav = { show, current: () => current };
  // The keychain's answer comes as an event. Rust probes it only once this page reports its first
  // screen painted (below, once this listener is in place), so the listener is asked for now and
  // awaited only then: its round trip overlaps the building of the first screen.
  const heard = api.on('keychain', (k) => {
    if (!app.info) return;
    app.info.keychain = k;
    withBanners().then((b) => b.refreshKeychain(), () => {});
  });
  const asked = Promise.allSettled([api.appInfo(), loadForms()]);
  const listed = api.listWorkspaces();
  listed.catch(() => {}); // read below, by reloadWorkspaces
  const [info, forms] = await asked;
  if (info.status === 'fulfilled') {
    app.info = info.value;
  } else {
    document.getElementById('banners').append(errorBox(info.reason));
    app.info = { keychain: { status: 'unknown' } };
  }
  // The back ends' forms: the add flow and each workspace's buttons and settings are drawn from them.
  if (forms.status === 'rejected') document.getElementById('banners').append(errorBox(forms.reason));
  if (app.info.theme === 'dark' || app.info.theme === 'light') {
    document.documentElement.dataset.theme = app.info.theme;
  }

  empty.mount(document.getElementById('view-empty'), nav);
  // The quiet check a few seconds after start found a newer version (its package verified).
  const updateHeard = api.on('update-available', (u) => withBanners().then((b) => b.showUpdate(u), () => {}));

  for (const b of document.querySelectorAll('.nav-tab')) b.addEventListener('click', () => show(b.dataset.view));
  document.getElementById('workspace-select').addEventListener('change', async (ev) => {
    try {
      await selectWorkspace(ev.target.value);
    } catch (e) {
      toast(e.message || 'Could not switch workspace.');
    }
  });
  // Alt+1..4 moves between the four screens from anywhere.
  document.addEventListener('keydown', (ev) => {
    if (!ev.altKey || ev.ctrlKey || ev.metaKey) return;
    const name = { 1: 'invite', 2: 'invitations', 3: 'workspaces', 4: 'history' }[ev.key];
    if (name) { ev.preventDefault(); show(name); document.getElementById(`nav-${name}`).focus(); }
  });

  subscribe(() => { renderSwitcher(); show(current); });
  try {
    await reloadWorkspaces(listed);
  } catch (e) {
    document.getElementById('banners').append(errorBox(e));
    show(current);
  }
  // With a workspace, the first screen is Invite: its paint is reported once it is built.
  if (app.workspaces.length) await mount(current).catch(() => {});
  // The first screen is built: report the frame that shows it (start-up benchmark, log).
  const built = performance.timeOrigin + performance.now();
  await heard;
  const painted = new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => {
    resolve();
    firstPaintDone();
    const fcp = performance.getEntriesByName('first-contentful-paint')[0];
    api.pagePainted(Date.now(), {
      navigation: performance.timeOrigin,
      firstContentfulPaint: fcp ? performance.timeOrigin + fcp.startTime : null,
      script: scriptStart,
      built,
    }).catch(() => {});
  })));
  await updateHeard;
  await painted;
  await mountTheRest();
  await watchOutbox();
  document.body.dataset.ready = 'true';
}

/** Loads and builds the screens that were not needed first. */
async function mountTheRest() {
  const loaded = await Promise.allSettled([withBanners(), ...Object.keys(LATER).map(mount)]);
  for (const r of loaded) if (r.status === 'rejected') console.error('could not load a screen', r.reason);
}

// "Resuming 37 invitations for Acme": batches left unfinished by the last run, and any batch
// whose workspace is paused, get a banner with Pause / Resume / Cancel until they are done.
async function watchOutbox() {
  const resumed = new Set();
  let shown = new Set();
  // A slow answer must not bring back the banner of a batch a newer answer saw finish.
  const ask = newestOnly();
  const refresh = async () => {
    const current = ask();
    let list, banners;
    try { [list, banners] = await Promise.all([api.unfinished(), withBanners()]); } catch { return; }
    if (!current()) return;
    const keep = new Set();
    for (const b of list) {
      if (resumed.has(b.id) || b.paused > 0) {
        keep.add(b.id);
        banners.showResume({ batchId: b.id, workspaceId: b.workspaceId, workspaceName: b.workspaceName, remaining: b.pending, paused: b.paused > 0 });
      }
    }
    for (const id of shown) if (!keep.has(id)) banners.showResume({ batchId: id, remaining: 0 });
    shown = keep;
  };
  try {
    for (const b of await api.unfinished()) resumed.add(b.id);
  } catch { /* the banner is a convenience; the Invite screen still shows progress */ }
  await refresh();
  let timer = null;
  await api.on('outbox', () => {
    // Events come per job; a few refreshes a second are enough for a banner.
    if (!timer) timer = setTimeout(() => { timer = null; refresh(); }, 300);
  });
}

start();
