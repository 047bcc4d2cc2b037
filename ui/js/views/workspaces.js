// Workspaces: the list, make current, rename, remove (with a confirmation naming it), the
// demo's Mailbox, "Add workspace" and "Copy diagnostics".

import * as api from '../api.js';
import { app, subscribe, reloadWorkspaces, selectWorkspace, formOf } from '../store.js';
import { el, clear, toast, confirmDialog, promptDialog, copyText, reveal, KIND_LABEL } from '../ui.js';
import { errorBox } from '../errors.js';
import { openAddWorkspace } from './add-workspace.js';
import { mailboxPanel } from './mailbox.js';
import { showUpdate } from './banners.js';


let listBox;
let status;
let nav;

export function mount(section, navigation) {
  nav = navigation;
  status = el('div', { class: 'status-line', role: 'status', 'aria-live': 'polite', id: 'ws-status' });
  listBox = el('div', { id: 'ws-list-box' });
  section.append(
    el('div', { class: 'view-head' },
      el('div', {}, el('h1', { id: 'workspaces-title' }, 'Workspaces'),
        el('p', { class: 'sub' }, 'Where Invite Desk sends invitations. Keys and passwords stay in your system keychain.')),
      el('span', { class: 'spacer' }),
      el('button', { type: 'button', class: 'btn', id: 'ws-diagnostics', onclick: copyDiagnostics }, 'Copy diagnostics'),
      el('button', { type: 'button', class: 'btn', id: 'ws-check-update', onclick: checkForUpdates }, 'Check for updates'),
      el('button', { type: 'button', class: 'btn primary', id: 'ws-add', onclick: () => openAddWorkspace() }, 'Add workspace')),
    status,
    listBox,
  );
  subscribe(render);
}

export function shown() {
  render();
}

function host(url) {
  try { return new URL(url).host; } catch { return url; }
}

function render() {
  clear(listBox);
  if (!app.workspaces.length) {
    listBox.append(el('div', { class: 'card table-empty' },
      el('p', {}, 'No workspaces yet. Add the workspace you invite people to, or try the demo first.'),
      el('div', { class: 'actions' },
        el('button', { type: 'button', class: 'btn', id: 'ws-try-demo', onclick: tryDemo }, 'Try the demo workspace'))));
    return;
  }
  const ul = el('ul', { class: 'ws-list', 'aria-label': 'Your workspaces' });
  for (const w of app.workspaces) {
    const current = w.id === app.currentId;
    const li = el('li', { class: 'card', 'data-ws': w.id });
    const row = el('div', { class: 'ws-item' },
      el('div', { class: 'ws-main' },
        el('div', { class: 'ws-name' }, w.name,
          current ? el('span', { class: 'badge' }, 'Current') : null,
          w.demo ? el('span', { class: 'badge' }, 'Demo') : null),
        el('div', { class: 'ws-meta' }, `${KIND_LABEL[w.kind] || w.kind} · ${host(w.baseUrl)}`,
          w.options && w.options.accountEmail ? ` · signed in as ${w.options.accountEmail}` : '')),
      el('div', { class: 'ws-actions' },
        current ? null : el('button', { type: 'button', class: 'btn small', onclick: () => makeCurrent(w) }, 'Make current'),
        w.demo ? null : el('button', { type: 'button', class: 'btn small', 'data-action': 'credentials', onclick: () => renewCredentials(w), 'aria-label': `${credentialLabel(w)} for ${w.name}` }, credentialLabel(w)),
        el('button', { type: 'button', class: 'btn small', 'data-action': 'rename', onclick: () => rename(w), 'aria-label': `Rename ${w.name}` }, 'Rename'),
        el('button', { type: 'button', class: 'btn small', 'data-action': 'settings', onclick: () => editSettings(w), 'aria-label': `Settings of ${w.name}` }, 'Settings'),
        el('button', { type: 'button', class: 'btn small danger', 'data-action': 'remove', onclick: () => remove(w), 'aria-label': `Remove ${w.name}` }, 'Remove')));
    li.append(row);
    if (w.demo) li.append(mailboxPanel(w));
    ul.append(li);
  }
  listBox.append(ul);
}

async function tryDemo() {
  clear(status).append('Starting the demo workspace…');
  try {
    await api.startDemo();
    clear(status);
    await reloadWorkspaces();
  } catch (e) { clear(status).append(errorBox(e)); }
}

async function makeCurrent(w) {
  try {
    await selectWorkspace(w.id);
    toast(`${w.name} is now the current workspace`);
  } catch (e) { clear(status).append(errorBox(e)); }
}

// What a workspace needs to get going again after a sign-out or a rotated key: its back end
// says so for each way of signing in.
function credential(w) {
  const { modes } = formOf(w.kind);
  const mode = (w.options && w.options.authMode) || 'default';
  const m = modes.find((x) => x.mode === mode) || modes[0];
  if (!m) return { secret: 'password', label: 'Sign in again', field: 'Password', hint: '' };
  return { secret: m.renew.secret, label: m.renew.action, field: m.renew.field, hint: m.renew.hint };
}

function credentialLabel(w) {
  return credential(w).label;
}

async function renewCredentials(w) {
  const c = credential(w);
  const value = await promptDialog({ title: `${c.label}: ${w.name}`, label: c.field, hint: `${c.hint} It goes to your system keychain, nowhere else.`, ok: c.label, type: 'password' });
  if (value === null || !value.trim()) return;
  clear(status).append(c.secret === 'password' ? 'Signing in…' : 'Checking the key…');
  try {
    const r = await api.updateSecrets(w.id, { [c.secret]: value });
    clear(status);
    toast(r.resumed ? `${w.name} works again; ${r.resumed} waiting invitation${r.resumed === 1 ? '' : 's'} resumed` : `${w.name} works again`);
    await reloadWorkspaces();
  } catch (e) {
    clear(status).append(errorBox(e, { service: w.kind }));
    status.scrollIntoView({ block: 'nearest' });
  }
}

// Where the workspace's server is and how it is reached: checked with the kept keys on Save.
function connectionFields(w) {
  if (w.demo) return null;
  const o = w.options || {};
  const text = (id, label, value, placeholder, hint) => el('div', { class: 'field' },
    el('label', { for: id }, label),
    el('input', { id, type: 'text', value: value || '', placeholder, spellcheck: 'false' }),
    hint ? el('p', { class: 'hint' }, hint) : null);
  // Beyond the address, the fields its back end describes (GoTrue's role and fork, Netlify's
  // function path).
  const more = formOf(w.kind).settings.connection.map((f) => (f.input === 'select'
    ? el('div', { class: 'field' }, el('label', { for: f.id }, f.label),
      el('select', { id: f.id }, ...f.choices.map((c) => el('option', { value: c.value, selected: (o[f.key] || f.default) === c.value }, c.label))))
    : text(f.id, f.label, o[f.key], f.placeholder, f.help)));
  return el('fieldset', { class: 'field' }, el('legend', { class: 'label' }, 'Connection'),
    text('set-url', 'Address', w.baseUrl, '', 'Checked before it is saved. Another server (a new host, port or http/https) needs its key again.'),
    ...more);
}

function connectionOf(form, w) {
  const v = (id) => form.querySelector(`#${id}`)?.value.trim() || null;
  const connection = { baseUrl: v('set-url') || '' };
  for (const f of formOf(w.kind).settings.connection) connection[f.key] = v(f.id);
  return connection;
}

// A new address is another server: its key (or password) is typed again, never taken from the
// keychain. The field appears under the connection once Rust asked for it, with Rust's words
// under it, and takes the focus; returns the field.
function askSecret(form, w, err) {
  const c = credential(w);
  let field = form.querySelector('#set-secret-field');
  if (!field) {
    field = el('div', { class: 'field', id: 'set-secret-field' },
      el('label', { for: 'set-secret' }, `${c.field} for the new address`),
      el('input', { id: 'set-secret', type: 'password', autocomplete: 'off', spellcheck: 'false', required: true, 'aria-describedby': 'set-secret-help set-secret-error' }),
      el('p', { class: 'hint', id: 'set-secret-help' }, `${c.hint} It is checked against the new address, then replaces the kept one in your keychain.`),
      el('div', { id: 'set-secret-error', 'aria-live': 'polite' }));
    form.querySelector('fieldset').after(field);
  }
  clear(field.querySelector('#set-secret-error')).append(errorBox(err, { service: w.kind }));
  // The dialog scrolls to the field and its error itself (a focus scroll would leave the error
  // under the action bar).
  field.querySelector('input').focus({ preventScroll: true });
  reveal(field);
  return field;
}

// Settings that change how invitations go out, and where the server is; never the key.
function editSettings(w) {
  const o = w.options || {};
  const d = el('dialog', { class: 'dialog small', id: 'settings-dialog', 'aria-labelledby': 'settings-title' });
  const answer = el('div', { 'aria-live': 'polite' });
  const num = (id, label, value, min, max, help) => el('div', { class: 'field' },
    el('label', { for: id }, label),
    el('input', { id, type: 'number', min: String(min), max: String(max), step: '1', value: value ?? '', placeholder: help.placeholder }),
    el('p', { class: 'hint' }, help.text));
  const form = el('form', { method: 'dialog', novalidate: true },
    el('h2', { id: 'settings-title' }, `Settings: ${w.name}`),
    connectionFields(w),
    el('div', { class: 'field' },
      el('label', { for: 'set-redirect' }, 'Where people land after accepting (default)'),
      el('input', { id: 'set-redirect', type: 'url', value: o.defaultRedirectUrl || '', placeholder: 'https://app.example.com/welcome' }),
      el('p', { class: 'hint' }, 'Used when you leave the field empty on the Invite screen. Leave empty for the service’s own default.')),
    formOf(w.kind).settings.linkLifetime
      ? num('set-lifetime', 'Link lifetime in hours', o.linkLifetimeHours, 1, 720, { placeholder: '24', text: 'The server’s invitation link lifetime (Supabase: Email OTP Expiration). Used to show when links expire.' })
      : null,
    num('set-concurrency', 'Invitations sent at once, to start', o.concurrency, 1, 16, { placeholder: '4', text: 'Invite Desk starts here, sends more while the server answers quickly and fewer when it refuses (never more than 16). 4 suits most.' }),
    w.demo ? null : num('set-emails', 'Emails the server sends per hour', o.emailsPerHour, 1, 100000, {
      placeholder: 'Not known',
      text: formOf(w.kind).settings.emailsPerHourHelp || 'If you know the limit, Invite Desk keeps to it and queues the rest, instead of meeting refusals.',
    }),
    answer,
    el('div', { class: 'dialog-actions' },
      el('button', { type: 'button', class: 'btn', onclick: () => d.close() }, 'Cancel'),
      el('button', { type: 'submit', class: 'btn primary', id: 'settings-save' }, 'Save')));
  // What the dialog opened with: only a changed connection is checked against the server.
  const initialConnection = w.demo ? null : JSON.stringify(connectionOf(form, w));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const whole = (id) => {
      const input = form.querySelector(`#${id}`);
      const v = input ? input.value.trim() : '';
      if (v && !/^\d+$/.test(v)) throw { kind: 'invalid_input', message: `${input.labels[0].textContent}: enter a whole number.` };
      return v ? Number(v) : null;
    };
    try {
      // The numbers are read (and refused) first, so a bad one never follows a saved address.
      const settings = {
        defaultRedirectUrl: form.querySelector('#set-redirect').value.trim() || null,
        linkLifetimeHours: whole('set-lifetime'),
        concurrency: whole('set-concurrency'),
        emailsPerHour: whole('set-emails'),
      };
      if (!w.demo) {
        const now = connectionOf(form, w);
        if (JSON.stringify(now) !== initialConnection) {
          clear(answer).append('Checking the connection…');
          const stale = form.querySelector('#set-secret-error');
          if (stale) clear(stale);
          const typed = form.querySelector('#set-secret');
          const secrets = typed && typed.value ? { [credential(w).secret]: typed.value } : null;
          try {
            await api.editConnection(w.id, now, secrets);
          } catch (e) {
            // Another server: the kept key is not sent there, so ask for it (Rust decides).
            if (e.kind === 'secret_needed') {
              clear(answer);
              askSecret(form, w, e);
              return;
            }
            throw e;
          }
        }
      }
      await api.editWorkspace(w.id, settings);
      d.close();
      toast(`Saved the settings of ${w.name}`);
      await reloadWorkspaces();
    } catch (e) {
      clear(answer).append(errorBox(e, { service: w.kind }));
      reveal(answer);
    }
  });
  d.addEventListener('close', () => d.remove());
  d.append(form);
  document.body.append(d);
  d.showModal();
}

async function rename(w) {
  const name = await promptDialog({ title: 'Rename workspace', label: 'New name', value: w.name, ok: 'Rename', hint: 'Shown in Invite Desk only; nothing changes on the server.' });
  if (name === null) return;
  try {
    await api.renameWorkspace(w.id, name);
    await reloadWorkspaces();
    toast('Renamed');
  } catch (e) { clear(status).append(errorBox(e, { service: w.kind })); }
}

async function remove(w) {
  const ok = await confirmDialog({
    title: `Remove ${w.name}?`,
    text: `Invite Desk forgets “${w.name}” and deletes its keys and passwords from your keychain. Nothing changes on the server: invitations already sent stay valid. The history of what you sent is kept.`,
    ok: `Remove ${w.name}`,
    cancel: 'Keep it',
  });
  if (!ok) return;
  try {
    await api.removeWorkspace(w.id);
    await reloadWorkspaces();
    toast(`Removed ${w.name} and its keys`);
  } catch (e) { clear(status).append(errorBox(e, { service: w.kind })); }
}

async function copyDiagnostics() {
  try {
    const text = await api.diagnostics();
    if (await copyText(text)) toast('Diagnostics copied. They hold no keys or passwords.');
    else clear(status).append('Could not reach the clipboard.');
  } catch (e) { clear(status).append(errorBox(e)); }
}

export { nav };

// "Check for updates": the banner when there is a newer version (its package already verified),
// a line saying this one is the newest, or why the check failed, in plain words.
async function checkForUpdates(ev) {
  const button = ev.currentTarget;
  button.disabled = true;
  clear(status).append('Checking for a new version…');
  try {
    const update = await api.checkUpdate();
    clear(status);
    if (update) {
      showUpdate(update);
      status.append(`Invite Desk ${update.version} is available: see the banner at the top.`);
    } else {
      showUpdate(null);
      status.append(`You have the newest version of Invite Desk${app.info && app.info.version ? ` (${app.info.version})` : ''}.`);
    }
  } catch (e) {
    // A package that failed verification is forgotten: so is its banner.
    if (e.kind === 'update_not_trusted') showUpdate(null);
    clear(status).append(errorBox(e));
  } finally {
    button.disabled = false;
  }
}
