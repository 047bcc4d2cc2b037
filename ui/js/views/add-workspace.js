// The "Add workspace" flow: choose the service → only that service's fields, each saying where
// to find it → Test connection (a plain answer) → Save. Secrets typed here go to Rust once, with
// the test or the save, and are never read back.

import * as api from '../api.js';
import { app, reloadWorkspaces, loadForms } from '../store.js';
import { el, clear, toast, copyText, reveal } from '../ui.js';
import { errorBox } from '../errors.js';

// Each back end describes its own form in Rust (providers/<kind>_form.rs): its name, fields,
// help lines, which secrets each way of signing in needs. This view only draws them.

let dialog;
let onDone = null;

/** Opens the flow; `preset` may choose the service (and fill the URL) for the owner. */
export async function openAddWorkspace({ kind = null, done = null } = {}) {
  try {
    await loadForms();
  } catch (e) {
    toast(e.message);
    return;
  }
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
  app.forms.forEach((s, i) => {
    fs.append(el('label', { class: 'service' },
      el('input', { type: 'radio', name: 'service', value: s.kind, checked: i === 0, id: `svc-${s.kind}` }),
      el('span', {}, el('span', { class: 'svc-name' }, s.name), el('span', { class: 'svc-desc' }, s.description))));
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

// One field as the back end describes it (see BackendForm in the core): an input with its label
// and help line, a checkbox, a radio group or a list.
function drawField(f) {
  const describedBy = f.help ? `${f.id}-help` : null;
  const help = f.help ? el('p', { class: 'hint', id: `${f.id}-help` }, f.help) : null;
  switch (f.input) {
    case 'checkbox':
      return el('div', { class: 'check' },
        el('input', { type: 'checkbox', id: f.id, name: f.id, checked: f.default === true, 'aria-describedby': describedBy }),
        el('div', {}, el('label', { for: f.id }, f.label), help));
    case 'radio':
      return el('fieldset', { class: 'field' }, el('legend', { class: 'label' }, f.label),
        f.choices.map((c) => el('label', { class: 'check' },
          el('input', { type: 'radio', name: f.id, value: c.value, checked: c.value === f.default, id: c.id }), c.label)));
    case 'select': {
      const select = el('select', { id: f.id }, f.choices.map((c) => el('option', { value: c.value }, c.label)));
      if (f.default) select.value = f.default;
      return el('div', { class: 'field' }, el('label', { for: f.id }, f.label), select, help);
    }
    default:
      return el('div', { class: 'field' },
        el('label', { for: f.id }, f.label),
        el('input', {
          id: f.id, name: f.id, type: f.input, value: f.default ?? '', placeholder: f.placeholder || '', required: f.required,
          autocomplete: f.autocomplete || 'off', spellcheck: 'false', 'aria-describedby': describedBy,
        }),
        help);
  }
}

// The form's blocks in order: the panel (if any), the fields, the advanced ones under "More
// options" where the first of them stands. Returns the blocks and each field's block by id.
function drawFields(svc) {
  const byId = new Map();
  const blocks = svc.panel === 'netlifyFunction' ? [netlifyFunctionPanel()] : [];
  const more = [];
  for (const f of svc.fields) {
    const node = drawField(f);
    byId.set(f.id, node);
    if (!f.advanced) { blocks.push(node); continue; }
    if (!more.length) blocks.push(more);
    more.push(node);
  }
  return { blocks: blocks.map((b) => (b === more ? advanced(more) : b)), byId };
}

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
  const svc = app.forms.find((s) => s.kind === kind) || app.forms[0];
  const form = el('form', { id: 'add-form', novalidate: true, 'data-kind': svc.kind });
  const answer = el('div', { id: 'add-answer', 'aria-live': 'polite' });
  const testBtn = el('button', { type: 'button', class: 'btn', id: 'add-test' }, svc.modes[0]?.signIn ? 'Sign in' : 'Test connection');
  const saveBtn = el('button', { type: 'submit', class: 'btn primary', id: 'add-save' }, 'Save workspace');
  const { blocks, byId } = drawFields(svc);
  form.append(
    el('h2', { id: 'add-title' }, `Add a ${svc.name} workspace`),
    steps(1),
    el('p', { class: 'hint' }, svc.description),
    ...blocks,
    answer,
    el('div', { class: 'dialog-actions' },
      el('button', { type: 'button', class: 'btn left', onclick: renderChoose }, 'Back'),
      el('button', { type: 'button', class: 'btn', onclick: close }, 'Cancel'),
      testBtn,
      saveBtn),
  );
  dialog.append(form);

  // The sign-in mode chosen shows its own fields. Royalti with a password signs in first (then
  // the owner picks workspaces); other modes test one workspace and save it.
  const choice = svc.fields.find((f) => f.key === 'authMode');
  const mode = () => (choice && form.querySelector(`input[name=${choice.id}]:checked`)?.value) || 'default';
  const modeSpec = () => svc.modes.find((m) => m.mode === mode()) || svc.modes[0];
  const sync = () => {
    for (const f of svc.fields) if (f.modes) byId.get(f.id).hidden = !f.modes.includes(mode());
    const signIn = !!modeSpec()?.signIn;
    testBtn.textContent = signIn ? 'Sign in' : 'Test connection';
    testBtn.classList.toggle('primary', signIn);
    saveBtn.hidden = signIn;
  };
  if (choice) for (const r of form.querySelectorAll(`input[name=${choice.id}]`)) r.addEventListener('change', sync);
  sync();

  const busy = (b, label) => {
    for (const btn of [testBtn, saveBtn]) btn.disabled = b;
    if (label) { show(answer, el('p', { class: 'hint' }, label)); }
  };

  const signsIn = () => !!modeSpec()?.signIn;
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
      const { draft, problem } = collect(form, svc);
      if (problem) return;
      const mine = ++asked;
      const id = checked.id;
      const covers = await api.checkCovers(id, draft).catch(() => false);
      if (mine === asked && checked && checked.id === id) showCovered(covers);
    });
    testBtn.addEventListener('click', async () => {
      if (signsIn()) { royaltiSignIn(form, answer, busy); return; }
      const { draft, secrets, problem } = collect(form, svc);
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
      if (signsIn()) { royaltiSignIn(form, answer, busy); return; }
      const { draft, secrets, problem } = collect(form, svc);
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

/** Reads the form into a draft (no secrets) and the secrets map, as the back end's fields say;
 *  fields the chosen sign-in mode hides are left out. */
function collect(form, svc) {
  const draft = { name: '', kind: svc.kind, baseUrl: '', options: {} };
  const o = draft.options;
  const secrets = {};
  for (const f of svc.fields) {
    if (f.input === 'radio') {
      o[f.key] = form.querySelector(`input[name=${f.id}]:checked`)?.value || f.default;
      continue;
    }
    const input = form.querySelector(`#${f.id}`);
    if (!input || input.closest('[hidden]')) continue;
    if (f.target === 'secret') {
      if (input.value) secrets[f.key] = input.value;
    } else if (f.input === 'checkbox') {
      o[f.key] = input.checked;
    } else if (f.target === 'draft') {
      draft[f.key] = input.value.trim();
    } else if (input.value.trim()) {
      const v = input.value.trim();
      if (f.input !== 'number') { o[f.key] = v; continue; }
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) return { problem: { kind: 'invalid_input', message: f.invalid } };
      o[f.key] = n;
    }
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
  const keepBox = drawField({ input: 'checkbox', id: 'opt-keep', label: 'Keep me signed in', default: keep,
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
