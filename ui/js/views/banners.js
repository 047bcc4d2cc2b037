// Banners above every screen: no keychain (with the fix and "Use for this session only"),
// what happened to the settings file (repaired from its last good copy, from a newer version,
// a workspace whose saved settings fail the checks), invitations resuming from an earlier
// session (with Pause and Cancel), and a new version (what is new, "Install and restart").

import * as api from '../api.js';
import { app } from '../store.js';
import { el, clear, toast } from '../ui.js';
import { errorBox } from '../errors.js';

let box;
const resumeBanners = new Map();

export function mount(container) {
  box = container;
  renderKeychain();
  renderOutboxNotice();
  renderNotices();
}

/** Says what start-up had to do with the record of invitations, and where the old file is. */
async function renderOutboxNotice() {
  let n;
  try { n = await api.outboxNotice(); } catch { return; }
  if (!n) return;
  const b = el('div', { class: `banner ${n.blocksSending ? 'bad' : 'warn'}`, id: 'outbox-banner', role: 'alert' },
    el('span', { class: 'banner-text' }, n.message,
      n.path ? el('span', {}, ' The file is kept at ', el('code', {}, n.path), '.') : null),
    el('span', { class: 'banner-actions' },
      el('button', { type: 'button', class: 'btn small', onclick: () => b.remove() }, 'Dismiss')));
  if (n.detail) b.append(el('details', {}, el('summary', {}, 'Details'), el('pre', {}, n.detail)));
  box.prepend(b);
}

// The settings notices are the core's sentences (the file's path included); each can be closed.
function renderNotices() {
  const info = app.info || {};
  const notices = [...(info.notices || [])];
  if (info.loadError && !notices.length) notices.push({ kind: 'newer', message: info.loadError.message });
  notices.forEach((n, i) => {
    const b = el('div', { class: 'banner warn', role: 'alert', id: `settings-notice-${i}`, 'data-notice': n.kind },
      el('span', { class: 'banner-text' }, n.message),
      el('span', { class: 'banner-actions' },
        el('button', { type: 'button', class: 'btn small', onclick: () => b.remove() }, 'Close')));
    box.append(b);
  });
}

function renderKeychain() {
  const k = app.info && app.info.keychain;
  const old = document.getElementById('keychain-banner');
  if (old) old.remove();
  if (!k || k.status === 'available' || k.status === 'checking') return;
  if (k.status === 'session') {
    box.prepend(el('div', { class: 'banner warn', id: 'keychain-banner', role: 'status' },
      el('span', { class: 'banner-text' }, 'Keys are kept for this session only: they are forgotten when Invite Desk closes.')));
    return;
  }
  const b = el('div', { class: 'banner bad', id: 'keychain-banner', role: 'alert' },
    el('span', { class: 'banner-text' }, el('strong', {}, 'Invite Desk can’t use your system keychain. '), k.hint || '', '.'),
    el('span', { class: 'banner-actions' },
      el('button', { type: 'button', class: 'btn small', id: 'use-session', onclick: async () => {
        try {
          app.info.keychain = await api.useSessionStore();
          renderKeychain();
          toast('Keys will be kept until Invite Desk closes');
        } catch (e) { b.append(errorBox(e)); }
      } }, 'Use for this session only')));
  if (k.detail) {
    const d = el('details', {}, el('summary', {}, 'Details'), el('pre', {}, k.detail));
    b.append(d);
  }
  box.prepend(b);
}

/** The keychain probe answered after start-up (or the owner's choice changed it): redraw. */
export function refreshKeychain() {
  if (box) renderKeychain();
}

/** Shows (or updates) "Resuming N invitations for X" with Pause / Resume / Cancel. */
export function showResume({ batchId, workspaceId, workspaceName, remaining, paused }) {
  let b = resumeBanners.get(batchId);
  if (remaining <= 0) {
    if (b) { b.remove(); resumeBanners.delete(batchId); }
    return;
  }
  if (!b) {
    b = el('div', { class: 'banner', role: 'status', 'data-batch': batchId });
    resumeBanners.set(batchId, b);
    box.append(b);
  }
  clear(b);
  const text = paused
    ? `Paused: ${remaining} invitation${remaining === 1 ? '' : 's'} for ${workspaceName} waiting.`
    : `Resuming ${remaining} invitation${remaining === 1 ? '' : 's'} for ${workspaceName}.`;
  b.append(el('span', { class: 'banner-text' }, text),
    el('span', { class: 'banner-actions' },
      paused
        ? el('button', { type: 'button', class: 'btn small', onclick: () => act(() => api.resumeWorkspace(workspaceId)) }, 'Resume')
        : el('button', { type: 'button', class: 'btn small', onclick: () => act(() => api.pauseWorkspace(workspaceId)) }, 'Pause'),
      el('button', { type: 'button', class: 'btn small danger', onclick: () => act(() => api.stopBatch(batchId)) }, 'Cancel them')));
  async function act(f) {
    try { await f(); } catch (e) { b.append(errorBox(e)); }
  }
}

/** Shows "Invite Desk X is ready to install" with what is new, "Install and restart" and
 *  "Later"; `null` removes it. The package was verified before the update was offered. */
export function showUpdate(update) {
  const old = document.getElementById('update-banner');
  if (old) old.remove();
  if (!update || !box) return;
  const b = el('div', { class: 'banner', id: 'update-banner', role: 'status', 'aria-live': 'polite' });
  const install = el('button', { type: 'button', class: 'btn small primary', id: 'update-install', onclick: async () => {
    install.disabled = true;
    install.textContent = 'Installing…';
    b.querySelectorAll('.error-box').forEach((x) => x.remove());
    try {
      await api.installUpdate(); // Invite Desk restarts into the new version
    } catch (e) {
      install.disabled = false;
      install.textContent = 'Install and restart';
      b.append(errorBox(e));
    }
  } }, 'Install and restart');
  b.append(
    el('span', { class: 'banner-text' },
      el('strong', {}, `Invite Desk ${update.version} is ready to install. `),
      `You have ${update.currentVersion}. Nothing changes until you click Install.`),
    el('span', { class: 'banner-actions' },
      install,
      el('button', { type: 'button', class: 'btn small', id: 'update-later', onclick: () => b.remove() }, 'Later')));
  if (update.notes && update.notes.trim()) {
    b.append(el('div', { class: 'update-notes', id: 'update-notes', 'aria-label': 'What’s new' },
      el('strong', {}, 'What’s new: '), update.notes.trim()));
  }
  box.prepend(b);
}
