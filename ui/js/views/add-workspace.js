// The "Add workspace" flow: choose the service → only that service's fields, each saying where
// to find it → Test connection (a plain answer) → Save. Secrets typed here go to Rust once, with
// the test or the save, and are never read back.

import * as api from '../api.js';
import { reloadWorkspaces } from '../store.js';
import { el, clear, toast, copyText, reveal } from '../ui.js';
import { errorBox } from '../errors.js';

const SERVICES = [
  {
    kind: 'supabase', name: 'Supabase',
    desc: 'A Supabase project. Invitations go through its Auth service with the project’s secret key.',
  },
  {
    kind: 'gotrue', name: 'Self-hosted GoTrue',
    desc: 'Your own GoTrue server (Supabase’s or Netlify’s version), with its JWT secret or operator token.',
  },
  {
    kind: 'netlify', name: 'Netlify Identity',
    desc: 'A Netlify site with Identity turned on. You deploy one small function, then sign in with your Identity account.',
  },
  {
    kind: 'royalti', name: 'Royalti',
    desc: 'A Royalti workspace where you are an owner or admin. Sign in with your Royalti account.',
  },
];

let dialog;
let onDone = null;

/** Opens the flow; `preset` may choose the service (and fill the URL) for the owner. */
export function openAddWorkspace({ kind = null, done = null } = {}) {
  dialog = document.getElementById('add-dialog');
  onDone = done;
  clear(dialog);
  if (kind) renderDetails(kind);
  else renderChoose();
  if (!dialog.open) dialog.showModal();
}

function steps(active) {
  const names = ['Service', 'Details', 'Check and save'];
  return el('ol', { class: 'steps', 'aria-label': 'Steps' },
    names.map((n, i) => el('li', { 'aria-current': i === active ? 'step' : null }, n)));
}

function close() {
  dialog.close();
  clear(dialog);
}

// ------------------------------------------------------------------ step 1

function renderChoose() {
  clear(dialog);
  const form = el('form', { method: 'dialog', id: 'add-choose' });
  const fs = el('fieldset', { class: 'service-list' }, el('legend', {}, 'Which service is your workspace on?'));
  SERVICES.forEach((s, i) => {
    fs.append(el('label', { class: 'service' },
      el('input', { type: 'radio', name: 'service', value: s.kind, checked: i === 0, id: `svc-${s.kind}` }),
      el('span', {}, el('span', { class: 'svc-name' }, s.name), el('span', { class: 'svc-desc' }, s.desc))));
  });
  form.append(
    el('h2', { id: 'add-title' }, 'Add a workspace'),
    steps(0),
    fs,
    el('div', { class: 'dialog-actions' },
      el('button', { type: 'button', class: 'btn', onclick: close }, 'Cancel'),
      el('button', { type: 'submit', class: 'btn primary', id: 'add-next' }, 'Next')),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const kind = new FormData(form).get('service');
    renderDetails(kind);
  });
  dialog.append(form);
  setTimeout(() => form.querySelector('input:checked')?.focus(), 0);
}

// ------------------------------------------------------------------ step 2 + 3

function field({ id, label, help, type = 'text', value = '', required = false, placeholder = '', autocomplete = 'off' }) {
  const input = el('input', {
    id, name: id, type, value, placeholder, required, autocomplete, spellcheck: 'false',
    'aria-describedby': help ? `${id}-help` : null,
  });
  return el('div', { class: 'field' },
    el('label', { for: id }, label),
    input,
    help ? el('p', { class: 'hint', id: `${id}-help` }, help) : null);
}

function checkbox({ id, label, help, checked = false }) {
  return el('div', { class: 'check' },
    el('input', { type: 'checkbox', id, name: id, checked, 'aria-describedby': help ? `${id}-help` : null }),
    el('div', {}, el('label', { for: id }, label), help ? el('p', { class: 'hint', id: `${id}-help` }, help) : null));
}

const FIELDS = {
  supabase: () => [
    field({ id: 'ws-name', label: 'Name', value: 'My Supabase project', required: true, help: 'Shown in Invite Desk only.' }),
    field({ id: 'ws-url', label: 'Project URL', type: 'url', required: true, placeholder: 'https://abcdefgh.supabase.co',
      help: 'In the Supabase dashboard: Project Settings → Data API → Project URL. A copied dashboard address works too.' }),
    field({ id: 'secret-secret_key', label: 'Secret key', type: 'password', required: true, autocomplete: 'new-password',
      help: 'Project Settings → API Keys: a secret key (starts with sb_secret_), or the legacy service_role key (Reveal, then copy). Not the anon or publishable key: it can’t invite.' }),
    advanced([
      field({ id: 'opt-redirect', label: 'Where people land after accepting (optional)', type: 'url', placeholder: 'https://app.example.com/welcome',
        help: 'Must be listed under Authentication → URL Configuration → Redirect URLs, or Supabase sends people to the Site URL.' }),
      field({ id: 'opt-lifetime', label: 'Link lifetime in hours (optional)', type: 'number', placeholder: '24',
        help: 'Authentication → Providers → Email → Email OTP Expiration. Used to show when links expire.' }),
    ]),
  ],
  gotrue: () => [
    field({ id: 'ws-name', label: 'Name', value: 'My GoTrue server', required: true, help: 'Shown in Invite Desk only.' }),
    field({ id: 'ws-url', label: 'Server address', type: 'url', required: true, placeholder: 'https://auth.example.com',
      help: 'The address GoTrue answers on: its /health page should load there.' }),
    el('fieldset', { class: 'field' }, el('legend', { class: 'label' }, 'How Invite Desk signs in'),
      el('label', { class: 'check' }, el('input', { type: 'radio', name: 'auth', value: 'default', checked: true, id: 'auth-jwt' }), 'JWT secret (Supabase’s and Netlify’s GoTrue)'),
      el('label', { class: 'check' }, el('input', { type: 'radio', name: 'auth', value: 'operator_token', id: 'auth-op' }), 'Operator token (Netlify’s GoTrue)')),
    field({ id: 'secret-jwt_secret', label: 'JWT secret', type: 'password', autocomplete: 'new-password',
      help: 'The GOTRUE_JWT_SECRET value in the server’s environment or config file.' }),
    field({ id: 'secret-operator_token', label: 'Operator token', type: 'password', autocomplete: 'new-password',
      help: 'The GOTRUE_OPERATOR_TOKEN value in the server’s environment.' }),
    advanced([
      el('div', { class: 'field' }, el('label', { for: 'opt-fork' }, 'GoTrue version'),
        el('select', { id: 'opt-fork' }, el('option', { value: 'auto' }, 'Find out automatically'),
          el('option', { value: 'supabase' }, 'Supabase’s (supabase/auth)'), el('option', { value: 'netlify' }, 'Netlify’s (netlify/gotrue)'))),
      field({ id: 'opt-role', label: 'Admin role (optional)', placeholder: 'service_role', help: 'Supabase’s GoTrue only: a role listed in GOTRUE_JWT_ADMIN_ROLES.' }),
      field({ id: 'opt-redirect', label: 'Where people land after accepting (optional)', type: 'url', placeholder: 'https://app.example.com/welcome' }),
      field({ id: 'opt-lifetime', label: 'Link lifetime in hours (optional)', type: 'number', placeholder: '24', help: 'GOTRUE_MAILER_OTP_EXP on the server, in hours.' }),
    ]),
  ],
  netlify: () => [
    netlifyFunctionPanel(),
    field({ id: 'ws-name', label: 'Name', value: 'My Netlify site', required: true, help: 'Shown in Invite Desk only.' }),
    field({ id: 'ws-url', label: 'Site address', type: 'url', required: true, placeholder: 'https://example.netlify.app',
      help: 'Your site’s address: Site configuration → General → Site details, or your own domain.' }),
    field({ id: 'opt-email', label: 'Your Identity email', type: 'email', required: true, autocomplete: 'username',
      help: 'The address you sign in to the site with. Your Identity user needs the role “admin”.' }),
    field({ id: 'secret-password', label: 'Your Identity password', type: 'password', required: true, autocomplete: 'current-password' }),
    checkbox({ id: 'opt-keep', label: 'Keep me signed in', help: 'Keeps the password in the system keychain so Invite Desk can sign in again by itself.' }),
  ],
  royalti: () => [
    el('fieldset', { class: 'field' }, el('legend', { class: 'label' }, 'How Invite Desk signs in'),
      el('label', { class: 'check' }, el('input', { type: 'radio', name: 'auth', value: 'default', checked: true, id: 'auth-pw' }), 'With my Royalti email and password'),
      el('label', { class: 'check' }, el('input', { type: 'radio', name: 'auth', value: 'api_key', id: 'auth-key' }), 'With a workspace API key (never expires, can be revoked)')),
    field({ id: 'ws-name', label: 'Name', value: 'My Royalti workspace', required: true, help: 'Shown in Invite Desk only.' }),
    field({ id: 'secret-api_key', label: 'Workspace API key', type: 'password', autocomplete: 'new-password',
      help: 'In Royalti: Settings → API keys → a workspace key (starts with RWAK). Only owners and admins can create one.' }),
    field({ id: 'opt-email', label: 'Royalti email', type: 'email', required: true, autocomplete: 'username' }),
    field({ id: 'secret-password', label: 'Royalti password', type: 'password', required: true, autocomplete: 'current-password' }),
    checkbox({ id: 'opt-keep', label: 'Keep me signed in', help: 'Royalti signs you out after a day. With this, the password stays in the system keychain and Invite Desk signs in again by itself.' }),
    advanced([
      field({ id: 'ws-url', label: 'Royalti server (optional)', type: 'url', placeholder: 'https://api.royalti.io', help: 'Leave empty unless Royalti gave you another address.' }),
    ]),
  ],
};

function advanced(children) {
  return el('details', { class: 'field' }, el('summary', {}, 'More options'), el('div', { class: 'advanced-body' }, children));
}

function netlifyFunctionPanel() {
  const box = el('section', { class: 'card fn-panel', 'aria-labelledby': 'fn-title' });
  box.append(
    el('h3', { id: 'fn-title' }, 'First, deploy the Invite Desk function on your site'),
    el('p', { class: 'hint' }, 'Netlify lets only functions on your own site invite people, so Invite Desk talks to a small function you deploy once.'),
    el('ol', { class: 'deploy-steps' },
      el('li', {}, 'Save the function file and put it in your site’s repository at ', el('code', {}, 'netlify/functions/invite-desk.mjs'), '.'),
      el('li', {}, 'Deploy the site (push the change, or run ', el('code', {}, 'netlify deploy --prod'), ').'),
      el('li', {}, 'In the Netlify dashboard, open Identity, select your user and give it the role ', el('code', {}, 'admin'), '.')),
  );
  const code = el('pre', { class: 'code-box', id: 'fn-code', tabindex: '0', 'aria-label': 'The function file' }, 'Loading…');
  const status = el('p', { class: 'hint', role: 'status', 'aria-live': 'polite' });
  const actions = el('div', { class: 'file-row' },
    el('button', { type: 'button', class: 'btn', id: 'fn-save', onclick: async () => {
      try {
        const saved = await api.saveNetlifyFunctionAs();
        if (!saved) return;
        status.textContent = `Saved to ${saved.path}`;
        toast(`Saved ${saved.name}`, { label: 'Show in folder', run: () => api.showInFolder(saved.path).catch((e) => clear(status).append(errorBox(e))) });
      } catch (e) { clear(status).append(errorBox(e)); }
    } }, 'Save function file…'),
    el('button', { type: 'button', class: 'btn', onclick: async () => {
      if (await copyText(code.textContent)) toast('Function code copied');
    } }, 'Copy code'));
  box.append(code, actions, status,
    el('p', { class: 'hint' }, 'Note: Netlify has deprecated Identity for new sites. Sites that already use it keep working and get security fixes.'));
  api.netlifyFunction().then((text) => { code.textContent = text; }).catch((e) => { clear(code).append(e.message); });
  return box;
}

function renderDetails(kind) {
  clear(dialog);
  const svc = SERVICES.find((s) => s.kind === kind) || SERVICES[0];
  const form = el('form', { id: 'add-form', novalidate: true, 'data-kind': svc.kind });
  const answer = el('div', { id: 'add-answer', 'aria-live': 'polite' });
  const testBtn = el('button', { type: 'button', class: 'btn', id: 'add-test' }, svc.kind === 'royalti' ? 'Sign in' : 'Test connection');
  const saveBtn = el('button', { type: 'submit', class: 'btn primary', id: 'add-save' }, 'Save workspace');
  form.append(
    el('h2', { id: 'add-title' }, `Add a ${svc.name} workspace`),
    steps(1),
    el('p', { class: 'hint' }, svc.desc),
    ...FIELDS[svc.kind](),
    answer,
    el('div', { class: 'dialog-actions' },
      el('button', { type: 'button', class: 'btn left', onclick: renderChoose }, 'Back'),
      el('button', { type: 'button', class: 'btn', onclick: close }, 'Cancel'),
      testBtn,
      saveBtn),
  );
  dialog.append(form);

  if (svc.kind === 'gotrue') {
    const sync = () => {
      const op = form.querySelector('#auth-op').checked;
      form.querySelector('#secret-jwt_secret').closest('.field').hidden = op;
      form.querySelector('#secret-operator_token').closest('.field').hidden = !op;
    };
    for (const r of form.querySelectorAll('input[name=auth]')) r.addEventListener('change', sync);
    sync();
  }

  const busy = (b, label) => {
    for (const btn of [testBtn, saveBtn]) btn.disabled = b;
    if (label) { show(answer, el('p', { class: 'hint' }, label)); }
  };

  // Royalti signs in with a password (then the owner picks workspaces) or uses one workspace's
  // API key (then it is added like any other service).
  const royaltiPassword = () => svc.kind === 'royalti' && !form.querySelector('#auth-key').checked;
  if (svc.kind === 'royalti') {
    const sync = () => {
      const pw = royaltiPassword();
      for (const id of ['opt-email', 'secret-password', 'opt-keep']) form.querySelector(`#${id}`).closest('.field, .check').hidden = !pw;
      for (const id of ['ws-name', 'secret-api_key']) form.querySelector(`#${id}`).closest('.field').hidden = pw;
      testBtn.textContent = pw ? 'Sign in' : 'Test connection';
      testBtn.classList.toggle('primary', pw);
      saveBtn.hidden = pw;
    };
    for (const r of form.querySelectorAll('input[name=auth]')) r.addEventListener('change', sync);
    sync();
  }
  {
    // A passed test keeps its secrets in Rust: the fields are emptied and Save sends only the
    // check's id, so a secret crosses to Rust once. Rust decides which edits the check survives
    // (the name and sending settings) and which need the secret again (the connection): the
    // form asks it after each change, and Save sends the id whenever no secret was typed.
    let checked = null; // { id, report, covers }
    let asked = 0;
    const secretInputs = () => [...form.querySelectorAll('input[id^="secret-"]')];
    const showCovered = (covers) => {
      if (!checked || checked.covers === covers) return;
      checked.covers = covers;
      form.dataset.checked = covers ? 'kept' : 'changed';
      for (const i of secretInputs()) if (i.dataset.kept) keep(i, covers);
      show(answer, covers ? okAnswer(checked.report)
        : el('p', { class: 'hint', id: 'add-changed' }, `The connection changed since the test: enter the ${keptName()} again, then test or save.`));
    };
    // What the owner typed and the test kept, by its label ("secret key", "Identity password").
    const keptName = () => {
      const label = secretInputs().find((i) => i.dataset.kept)?.labels?.[0]?.textContent.trim().replace(/^Your /, '');
      return label ? label.charAt(0).toLowerCase() + label.slice(1) : 'secret';
    };
    // A kept secret's field shows so and is not required; otherwise it is as it was.
    const keep = (i, kept) => {
      i.placeholder = kept ? 'Checked and kept until you save (type to replace)' : i.dataset.placeholder || '';
      i.required = kept ? false : i.dataset.required === 'true';
    };
    const forget = () => {
      if (!checked) return;
      for (const i of secretInputs()) {
        if (!i.dataset.kept) continue;
        keep(i, false);
        delete i.dataset.kept;
      }
      checked = null;
      delete form.dataset.checked;
    };
    form.addEventListener('input', async (ev) => {
      if (!checked || ev.target.id?.startsWith('secret-')) return;
      const { draft, problem } = collect(form, svc.kind);
      if (problem) return;
      const mine = ++asked;
      const id = checked.id;
      const covers = await api.checkCovers(id, draft).catch(() => false);
      if (mine === asked && checked && checked.id === id) showCovered(covers);
    });
    testBtn.addEventListener('click', async () => {
      if (royaltiPassword()) { royaltiSignIn(form, answer, busy); return; }
      const { draft, secrets, problem } = collect(form, svc.kind);
      if (problem) { show(answer, errorBox(problem)); return; }
      busy(true, 'Checking the connection…');
      try {
        const report = await api.testConnection(draft, secrets);
        forget();
        checked = { id: report.checkId, report, covers: true };
        form.dataset.checked = 'kept';
        for (const i of secretInputs()) {
          if (!i.value) continue;
          i.dataset.kept = '1';
          i.dataset.placeholder = i.placeholder;
          i.dataset.required = String(i.required);
          i.value = '';
          keep(i, true);
        }
        show(answer, okAnswer(report));
      } catch (e) {
        forget();
        show(answer, errorBox(e, { service: svc.kind }));
      } finally { busy(false); }
    });
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      if (royaltiPassword()) { royaltiSignIn(form, answer, busy); return; }
      const { draft, secrets, problem } = collect(form, svc.kind);
      if (problem) { show(answer, errorBox(problem)); return; }
      busy(true, 'Checking the connection and saving…');
      try {
        const reuse = checked && !Object.keys(secrets).length;
        const ws = await api.addWorkspace(draft, reuse ? {} : secrets, reuse ? checked.id : null);
        close();
        toast(`Added ${ws.name}`);
        await reloadWorkspaces();
        onDone?.(ws);
      } catch (e) {
        // Any Save spends the check in Rust.
        forget();
        show(answer, errorBox(e, { service: svc.kind }));
        busy(false);
      }
    });
  }
  setTimeout(() => form.querySelector('input:not([type=hidden])')?.focus(), 0);
}

/** Puts an answer under the form and scrolls it into view: the dialog is taller than the window. */
function show(answer, node) {
  clear(answer).append(node);
  reveal(answer);
}

function okAnswer(report) {
  const box = el('div', { class: 'answer ok', role: 'status', id: 'add-ok' }, el('strong', {}, 'Connection works. '), report.summary);
  if (report.notes && report.notes.length) box.append(el('ul', {}, report.notes.map((n) => el('li', {}, n))));
  return box;
}

function val(form, id) {
  const e = form.querySelector(`#${id}`);
  return e ? e.value.trim() : '';
}

/** Reads the form into a draft (no secrets) and the secrets map. */
function collect(form, kind) {
  const draft = { name: val(form, 'ws-name'), kind, baseUrl: val(form, 'ws-url'), options: {} };
  const o = draft.options;
  const redirect = val(form, 'opt-redirect');
  if (redirect) o.defaultRedirectUrl = redirect;
  const life = val(form, 'opt-lifetime');
  if (life) {
    const n = Number(life);
    if (!Number.isInteger(n) || n < 1) return { problem: { kind: 'invalid_input', message: 'Link lifetime: enter a whole number of hours.' } };
    o.linkLifetimeHours = n;
  }
  if (kind === 'gotrue') {
    o.authMode = form.querySelector('#auth-op').checked ? 'operator_token' : 'default';
    o.gotrueFork = val(form, 'opt-fork') || 'auto';
    const role = val(form, 'opt-role');
    if (role) o.adminRole = role;
  }
  if (kind === 'royalti') o.authMode = form.querySelector('#auth-key').checked ? 'api_key' : 'default';
  const email = form.querySelector('#opt-email')?.closest('.field')?.hidden ? '' : val(form, 'opt-email');
  if (email) o.accountEmail = email;
  const keep = form.querySelector('#opt-keep');
  if (keep) o.keepSignedIn = keep.checked;
  const secrets = {};
  for (const input of form.querySelectorAll('input[id^="secret-"]')) {
    if (input.closest('.field')?.hidden) continue;
    if (input.value) secrets[input.id.slice('secret-'.length)] = input.value;
  }
  return { draft, secrets };
}

// ------------------------------------------------------------------ Royalti

async function royaltiSignIn(form, answer, busy) {
  const email = val(form, 'opt-email');
  const password = form.querySelector('#secret-password').value;
  if (!email || !password) {
    show(answer, errorBox({ kind: 'invalid_input', message: 'Enter your Royalti email and password.' }));
    return;
  }
  busy(true, 'Signing in to Royalti…');
  try {
    const r = await api.royaltiSignIn(val(form, 'ws-url'), email, password);
    renderRoyaltiPick(r, form.querySelector('#opt-keep').checked);
  } catch (e) {
    show(answer, errorBox(e));
    busy(false);
  }
}

function renderRoyaltiPick(r, keep) {
  clear(dialog);
  const form = el('form', { id: 'royalti-pick' });
  const list = el('ul', { class: 'remote-list' });
  for (const w of r.workspaces) {
    const id = `rw-${w.id}`;
    list.append(el('li', { class: w.canInvite ? '' : 'disabled' },
      el('div', { class: 'check flush' },
        el('input', { type: 'checkbox', id, value: w.id, disabled: !w.canInvite, checked: w.canInvite && r.workspaces.filter((x) => x.canInvite).length === 1 }),
        el('div', {}, el('label', { for: id }, w.name), el('p', { class: 'hint flush' },
          w.canInvite ? `Your role: ${w.role}` : `Your role is ${w.role || 'unknown'}: only owners and admins can invite.`)))));
  }
  const keepBox = checkbox({ id: 'opt-keep', label: 'Keep me signed in', checked: keep,
    help: 'Keeps the password in the system keychain so Invite Desk can sign in again when Royalti signs you out.' });
  const answer = el('div', { 'aria-live': 'polite' });
  form.append(el('h2', { id: 'add-title' }, 'Choose the Royalti workspaces to add'), steps(2),
    el('p', {}, `Signed in as ${r.email}. Tick the workspaces you want to invite people to.`),
    list, keepBox, answer,
    el('div', { class: 'dialog-actions' },
      el('button', { type: 'button', class: 'btn', onclick: close }, 'Cancel'),
      el('button', { type: 'submit', class: 'btn primary', id: 'royalti-add' }, 'Add workspaces')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const picks = [...form.querySelectorAll('.remote-list input:checked')].map((i) => i.value);
    if (!picks.length) { show(answer, errorBox({ kind: 'invalid_input', message: 'Tick at least one workspace.' })); return; }
    try {
      const added = await api.royaltiAdd(r.signInId, picks, form.querySelector('#opt-keep').checked);
      close();
      toast(`Added ${added.length} Royalti workspace${added.length === 1 ? '' : 's'}`);
      await reloadWorkspaces();
      onDone?.(added[0]);
    } catch (e) { show(answer, errorBox(e)); }
  });
  dialog.append(form);
}
