// Invite: paste or drop a list → chips (parsed in Rust) → options this workspace supports →
// "Invite N people" → progress from the outbox → a result per address.

import * as api from '../api.js';
import { app, subscribe } from '../store.js';
import { el, clear, toast, copyText, clock, plural, debounce, firstPaint, KIND_LABEL } from '../ui.js';
import { errorBox, explain } from '../errors.js';

// The results list's module loads with the first batch, not before the first screen is painted:
// each module loaded first is one more request before that paint.
let windowedList = null;

const MAX_CHIPS = 400;

let section;
let text;
let chipsBox;
let summary;
let optionsBox;
let sendBtn;
let subtitle;
let resultsCard;
let fileInput;
let parsed = null;
let caps = null;
let capsFor = null;
let batch = null; // {batchId, workspaceId}
let lastStatus = null;
// The batch's rows as the page holds them, kept current from Rust's cursor answers
// (batch_changes): each read brings the counts and only the rows changed since `cursor`, so an
// update costs the same whether the batch holds 10 or 100,000 addresses.
let rows = [];
let rowAt = new Map(); // job id → index in rows
let cursor = 0;
let statusTimer = null;
let fetching = false; // one batch_status in flight at a time
let dirty = false; // an event came since the last read
let lastFetch = 0;
let card = null; // the results card's parts, built once per batch and updated in place
let live; // the aria-live region: a short summary, never the list
let lastAnnounced = { text: '', at: 0 };

export function mount(sec) {
  section = sec;
  subtitle = el('p', { class: 'sub', id: 'invite-sub' });
  text = el('textarea', {
    id: 'invite-text', rows: '8', spellcheck: 'false', autocomplete: 'off',
    'aria-describedby': 'invite-text-help chip-summary',
    placeholder: 'jane@example.com, bob@example.com\nJane Doe <jane@example.com>\n"Smith, Ann" <ann@example.org>',
  });
  const drop = el('div', { class: 'paste-area', id: 'drop-zone' }, text);
  fileInput = el('input', { type: 'file', id: 'invite-file', accept: '.csv,.txt,text/csv,text/plain', class: 'visually-hidden', tabindex: '-1' });
  const fileBtn = el('button', { type: 'button', class: 'btn', id: 'invite-file-btn', onclick: () => fileInput.click() }, 'Choose a CSV or TXT file…');
  summary = el('div', { class: 'chip-summary', id: 'chip-summary', role: 'status', 'aria-live': 'polite' });
  chipsBox = el('ul', { class: 'chips', id: 'chips', 'aria-label': 'Addresses found' });
  optionsBox = el('div', { id: 'invite-options' });
  sendBtn = el('button', { type: 'submit', class: 'btn primary big', id: 'invite-send', disabled: true }, 'Invite people');
  resultsCard = el('section', { class: 'card', id: 'results-card', 'aria-labelledby': 'results-title', hidden: true });
  live = el('p', { class: 'visually-hidden', id: 'results-live', role: 'status', 'aria-live': 'polite', 'aria-atomic': 'true' });

  const form = el('form', { id: 'invite-form', class: 'card', novalidate: true },
    el('label', { for: 'invite-text', class: 'label' }, el('h2', { class: 'flush' }, 'Who do you want to invite?')),
    el('p', { class: 'hint', id: 'invite-text-help' },
      'Paste addresses in any shape — one per line, separated by commas, semicolons or spaces, “Name <address>”, copied from a spreadsheet or an email.'),
    drop,
    el('div', { class: 'file-row' }, fileBtn, fileInput, el('span', { class: 'hint' }, 'or drop a CSV or TXT file on the box (the column named “email”, or the one holding addresses).')),
    summary,
    chipsBox,
    optionsBox,
    el('div', { class: 'send-row' }, sendBtn,
      el('span', { class: 'hint' }, el('span', { class: 'kbd' }, isMac() ? '⌘' : 'Ctrl'), ' + ', el('span', { class: 'kbd' }, 'Enter'), ' sends')),
  );

  sec.append(
    el('div', { class: 'view-head' }, el('div', {}, el('h1', { id: 'invite-title' }, 'Invite people'), subtitle)),
    form,
    resultsCard,
    live,
  );

  const reparse = debounce(() => parseText(), 150);
  text.addEventListener('input', reparse);
  text.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); send(); }
  });
  form.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey) && ev.target !== text) { ev.preventDefault(); send(); }
  });
  form.addEventListener('submit', (ev) => { ev.preventDefault(); send(); });
  fileInput.addEventListener('change', () => { if (fileInput.files[0]) readFile(fileInput.files[0]); fileInput.value = ''; });
  // The window's native drag-drop is off (tauri.conf.json `dragDropEnabled: false`), so a file
  // dropped from the desktop reaches the page as an HTML drop with its contents.
  const carriesFile = (ev) => ev.dataTransfer?.types.includes('Files');
  drop.addEventListener('dragover', (ev) => {
    if (!carriesFile(ev)) return;
    ev.preventDefault();
    drop.classList.add('dragging');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('dragging'));
  drop.addEventListener('drop', (ev) => {
    drop.classList.remove('dragging');
    const f = ev.dataTransfer?.files[0];
    if (!f) return; // dragged text: the text box takes it as typed text
    ev.preventDefault();
    readFile(f);
  });

  api.on('outbox', onOutboxEvent);
  subscribe(() => { if (!section.hidden) shown(); });
  renderSummary();
}

function isMac() {
  return /Mac/.test(navigator.platform || '');
}

export async function shown() {
  const ws = app.current();
  if (!ws) return;
  subtitle.textContent = `to ${ws.name}`;
  if (capsFor !== ws.id) {
    capsFor = ws.id;
    // The list brought them (the options are drawn with the first screen); a workspace whose
    // saved settings fail the checks has none, and its details say why.
    caps = app.capabilities[ws.id] || null;
    renderOptions();
    if (!caps) {
      try {
        const d = await api.workspaceDetails(ws.id);
        if (capsFor === ws.id) { caps = d.capabilities; renderOptions(); }
      } catch (e) {
        clear(optionsBox).append(errorBox(e));
      }
    }
    // Learn who is already invited, so pasted addresses can say so: a server round trip, after
    // the first screen is painted.
    firstPaint.then(() => api.refreshInvitations(ws.id)).then(() => { if (text.value.trim()) parseText(); }).catch(() => {});
    if (text.value.trim()) parseText();
  }
}

// ---------------------------------------------------------------- parsing + chips

async function parseText() {
  const ws = app.current();
  const value = text.value;
  if (!value.trim()) { parsed = null; renderChips(); return; }
  try {
    const r = await api.parseRecipients(ws ? ws.id : null, value, MAX_CHIPS);
    if (text.value !== value) return; // a newer parse is on its way
    parsed = r;
    renderChips();
  } catch (e) {
    clear(summary).append(explain(e).title);
  }
}

async function readFile(file) {
  const ws = app.current();
  try {
    const buf = new Uint8Array(await file.arrayBuffer());
    const r = await api.parseCsv(ws ? ws.id : null, Array.from(buf));
    // Rust gives the file back as paste-box lines ("Name <address>"), read again like a paste.
    text.value = r.lines || '';
    toast(`Read ${file.name}: ${plural(r.counts.valid, 'address', 'addresses')}`);
    await parseText();
  } catch (e) {
    clear(summary).append(errorBox(e));
  }
}

const NOTE = {
  invalid: (s) => s.reason,
  duplicate: () => 'duplicate, merged',
  alreadyMember: () => 'already a member',
  alreadyInvited: () => 'already invited',
};

function chipClass(kind) {
  return { valid: 'valid', invalid: 'invalid', duplicate: 'duplicate', alreadyMember: 'member', alreadyInvited: 'invited' }[kind] || 'valid';
}

function chip(e) {
  const kind = e.status.kind;
  const note = NOTE[kind] ? NOTE[kind](e.status) : '';
  return el('li', { class: `chip ${chipClass(kind)}`, 'data-status': kind, title: e.input },
    el('span', { class: 'chip-addr' }, e.email || e.input),
    note ? el('span', { class: 'chip-note' }, `— ${note}`) : el('span', { class: 'visually-hidden' }, ', valid'));
}

function renderChips() {
  clear(chipsBox);
  const entries = parsed ? parsed.entries : [];
  for (const e of entries) chipsBox.append(chip(e));
  moreChips();
  renderSummary();
}

// Rust sends the first rows only (a 100,000-line paste stays in Rust); more come on demand,
// a page at a time.
function moreChips() {
  const total = parsed ? parsed.total ?? parsed.entries.length : 0;
  const shown = parsed ? parsed.entries.length : 0;
  if (total <= shown) return;
  const forParse = parsed.parseId;
  const btn = el('button', { type: 'button', class: 'btn small', id: 'chips-more' }, `Show ${Math.min(MAX_CHIPS, total - shown)} more of ${total - shown}`);
  const item = el('li', { class: 'chip-more' }, btn);
  btn.addEventListener('click', async () => {
    btn.disabled = true;
    try {
      const next = await api.parsedEntries(forParse, shown, MAX_CHIPS);
      if (!parsed || parsed.parseId !== forParse) return;
      parsed.entries = parsed.entries.concat(next);
      item.remove();
      for (const e of next) chipsBox.append(chip(e));
      moreChips();
      document.getElementById('chips-more')?.focus(); // the keyboard stays where it was
    } catch (e) {
      item.replaceChildren(errorBox(e, { compact: true }));
    }
  });
  chipsBox.append(item);
}

function renderSummary() {
  clear(summary);
  const c = parsed ? parsed.counts : { valid: 0, invalid: 0, duplicate: 0, alreadyMember: 0, alreadyInvited: 0 };
  if (!parsed) {
    summary.append('No addresses yet.');
  } else {
    summary.append(el('span', { 'data-count': 'valid' }, `${plural(c.valid, 'address', 'addresses')} to invite`));
    if (c.invalid) summary.append(el('span', { 'data-count': 'invalid' }, `${c.invalid} not valid`));
    if (c.duplicate) summary.append(el('span', { 'data-count': 'duplicate' }, `${c.duplicate} duplicate${c.duplicate === 1 ? '' : 's'} merged`));
    if (c.alreadyInvited) summary.append(el('span', {}, `${c.alreadyInvited} already invited`));
    if (c.alreadyMember) summary.append(el('span', {}, `${plural(c.alreadyMember, 'member', 'members')} already`));
  }
  const n = c.valid;
  sendBtn.textContent = n === 0 ? 'Invite people' : `Invite ${plural(n, 'person', 'people')}`;
  sendBtn.disabled = n === 0 || !!(lastStatus && !lastStatus.finished);
}

// ---------------------------------------------------------------- options

// What the message becomes on each service: GoTrue keeps it in the invitee's data for the
// email template to show.
const MESSAGE_HELP = {
  royalti: 'Shown in the invitation email.',
  netlify: 'Saved with the invitation as invite_message; show it in your Identity invitation template with {{ .Data.invite_message }}.',
};
const GOTRUE_MESSAGE_HELP = 'Saved with the invitation as invite_message; show it in the Invite user email template with {{ .Data.invite_message }}.';

function renderOptions() {
  clear(optionsBox);
  if (!caps) return;
  const ws = app.current();
  const service = ws ? ws.kind : '';
  // An option the service lacks is shown greyed with the reason, never as if it worked.
  const unsupported = (what) => `${what} — ${(ws && KIND_LABEL[ws.kind]) || 'this service'} has no such option.`;
  optionsBox.append(el('div', { class: 'field' },
    el('label', { for: 'invite-message' }, 'Personal message (optional)'),
    el('textarea', { id: 'invite-message', rows: '2', maxlength: '1000', disabled: !caps.message }),
    el('p', { class: 'hint' }, caps.message ? (MESSAGE_HELP[service] || GOTRUE_MESSAGE_HELP) : unsupported('Not available'))));
  const gotrue = service === 'supabase' || service === 'gotrue';
  optionsBox.append(el('div', { class: 'field' },
    el('label', { for: 'invite-redirect' }, 'Where people land after accepting (optional)'),
    el('input', { id: 'invite-redirect', type: 'url', placeholder: 'https://app.example.com/welcome', disabled: !caps.redirect, value: (caps.redirect && ws && ws.options && ws.options.defaultRedirectUrl) || '' }),
    el('p', { class: 'hint' }, !caps.redirect
      ? unsupported('Not available: people land on the site’s own page')
      : gotrue ? 'Must be in the project’s allowed redirect URLs, or people land on the Site URL.' : 'Leave empty for the workspace’s default page.')));
  const canSkipEmail = caps.sendEmailToggle || caps.copyLink;
  const fs = el('fieldset', { class: 'field', disabled: !canSkipEmail }, el('legend', { class: 'label' }, 'How people get their invitation'),
    el('label', { class: 'check' }, el('input', { type: 'radio', name: 'delivery', value: 'email', id: 'delivery-email', checked: true }), 'Send them an email'),
    el('label', { class: 'check' }, el('input', { type: 'radio', name: 'delivery', value: 'link', id: 'delivery-link' }),
      // Only back ends that hand out the link offer one to copy; the others just skip the email.
      caps.copyLink ? 'Create links to copy and send yourself (no email)' : 'Create the invitations without sending an email'),
    canSkipEmail ? null : el('p', { class: 'hint' }, unsupported('Always by email')));
  optionsBox.append(fs);
}

function inviteOptions() {
  const message = document.getElementById('invite-message')?.value.trim() || null;
  const redirectUrl = document.getElementById('invite-redirect')?.value.trim() || null;
  const sendEmail = !document.getElementById('delivery-link')?.checked;
  return { message, redirectUrl, sendEmail };
}

// ---------------------------------------------------------------- sending

async function send() {
  const ws = app.current();
  if (!ws || !parsed) return;
  if (lastStatus && !lastStatus.finished) return;
  if (!parsed.counts.valid) { toast('No valid addresses to invite'); return; }
  sendBtn.disabled = true;
  try {
    if (!windowedList) ({ windowedList } = await import('../windowed.js'));
    // The addresses stay in Rust: the page names the parse and the options.
    const r = await api.enqueueParsed(ws.id, parsed.parseId, inviteOptions());
    batch = { batchId: r.batchId, workspaceId: ws.id };
    rows = r.jobs.slice();
    rowAt = new Map(rows.map((j, i) => [j.id, i]));
    // The rows came with the answer; the first cursor read brings them once more, then only
    // what changed.
    cursor = 0;
    lastStatus = { ...r, jobs: rows };
    card = null;
    lastAnnounced = { text: '', at: 0 };
    renderResults();
    text.value = '';
    parsed = null;
    renderChips();
    showResults();
  } catch (e) {
    resultsCard.hidden = false;
    card = null;
    clear(resultsCard).append(el('h2', { id: 'results-title' }, 'Results'), errorBox(e));
    sendBtn.disabled = false;
  }
}

// Events come per job (dozens a second in a big batch): they only mark the batch dirty. It is
// read at most every 200 ms, one read in flight, drawn on the next animation frame.
function onOutboxEvent(ev) {
  if (!batch || !ev || (ev.batchId && ev.batchId !== batch.batchId)) return;
  dirty = true;
  scheduleStatus();
}

function scheduleStatus() {
  if (fetching || statusTimer) return;
  const wait = Math.max(0, 200 - (performance.now() - lastFetch));
  statusTimer = setTimeout(() => { statusTimer = null; requestAnimationFrame(readStatus); }, wait);
}

async function readStatus() {
  if (!dirty || !batch || fetching) return;
  dirty = false;
  fetching = true;
  lastFetch = performance.now();
  const id = batch.batchId;
  try {
    const s = await api.batchChanges(id, cursor);
    if (batch && batch.batchId === id) {
      cursor = s.cursor;
      for (const j of s.jobs) {
        const i = rowAt.get(j.id);
        if (i === undefined) { rowAt.set(j.id, rows.length); rows.push(j); } else rows[i] = j;
      }
      lastStatus = { ...s, jobs: rows };
      renderResults();
      // More changes than one answer holds: read on at once.
      if (s.more) dirty = true;
    }
  } catch (e) {
    console.warn('batch status', e);
  } finally {
    fetching = false;
    if (dirty) scheduleStatus();
  }
}

// Why a job waits, from its last error: offline, the email limit, or another limit.
// Rust decides which (`offline`, `emailLimit` on the job's error); nothing is guessed here.
const WAIT_REASON = (e) => {
  if (e && e.offline) return 'No connection to the server';
  if (e && e.emailLimit) return 'Waiting for the server’s email limit';
  return 'Waiting for the server’s limit';
};
const OUTCOME = {
  queued: () => 'Waiting to be sent',
  sending: () => 'Sending…',
  invited: () => '', // the pill says it
  linked: () => 'Link created',
  updated: () => 'Invitation updated and sent again',
  alreadyMember: () => 'Already a member',
  failed: (j) => (j.error ? explain(j.error).title : 'Failed'),
  waiting: (j) => `${WAIT_REASON(j.error)}${j.nextAttemptAt ? ` — next try ${clock(j.nextAttemptAt)}` : ''}`,
  uncertain: () => 'Checking whether it went through…',
  paused: (j) => (j.error ? explain(j.error).title : 'Paused'),
  cancelled: () => 'Stopped: not sent',
};

const PILL = { invited: 'invited', linked: 'linked', updated: 'invited', alreadyMember: 'member', failed: 'failed', waiting: 'waiting', uncertain: 'uncertain', paused: 'paused', cancelled: 'cancelled', queued: 'queued', sending: 'sending' };
const PILL_TEXT = { invited: 'Invited', linked: 'Link', updated: 'Re-sent', alreadyMember: 'Member', failed: 'Failed', waiting: 'Waiting', uncertain: 'Checking', paused: 'Paused', cancelled: 'Stopped', queued: 'Queued', sending: 'Sending' };

// What changes a row's look: a row is rebuilt only when this changes.
const rowKey = (j) => `${j.state}|${j.link || ''}|${j.error ? `${j.error.kind}|${j.error.message}|${j.error.detail || ''}` : ''}|${j.nextAttemptAt || ''}`;

function renderRow(j, i, n) {
  const outcome = (OUTCOME[j.state] || (() => j.state))(j);
  const actions = el('div', { class: 'row-actions' });
  if (j.link) actions.append(el('button', { type: 'button', class: 'btn small', 'data-action': 'copy', onclick: async () => { if (await copyText(j.link)) toast(`Link for ${j.email} copied`); } }, 'Copy link'));
  if (j.canRetry) {
    actions.append(el('button', { type: 'button', class: 'btn small', 'data-action': 'retry', onclick: () => retry(j) }, 'Retry'));
  } else if (j.held) {
    // The whole workspace waits (signed out, or paused by hand): resuming it lets this go too.
    actions.append(el('button', { type: 'button', class: 'btn small', 'data-action': 'resume', onclick: () => resume() }, 'Resume'));
  }
  const row = el('li', { 'data-email': j.email, 'data-state': j.state, 'aria-posinset': String(i + 1), 'aria-setsize': String(n) },
    el('span', { class: 'addr' }, j.email),
    el('span', { class: 'outcome' }, el('span', { class: `pill ${PILL[j.state] || ''}` }, PILL_TEXT[j.state] || j.state), ' ', outcome),
    actions);
  if (j.error && j.error.detail && !j.waiting) {
    const d = el('details', { class: 'hint' }, el('summary', {}, 'Details'), el('pre', {}, j.error.detail));
    row.querySelector('.outcome').append(d);
  }
  return row;
}

/** The card's parts, built once per batch; later updates change text and the visible rows only. */
function buildCard() {
  resultsCard.hidden = false;
  clear(resultsCard);
  const c = {};
  c.title = el('h2', { id: 'results-title', class: 'flush' });
  c.stopSlot = el('span');
  c.bar = el('div', { class: 'bar' });
  c.progress = el('div', { class: 'progress', role: 'progressbar', 'aria-valuemin': '0', 'aria-label': 'Progress' }, c.bar);
  c.counts = el('span', { class: 'progress-counts', id: 'progress-counts' });
  c.bannerSlot = el('div');
  c.viewport = el('div', { class: 'results-viewport', tabindex: '-1' });
  c.ul = el('ul', { class: 'results', id: 'results', role: 'list', 'aria-labelledby': 'results-title' });
  c.viewport.append(c.ul);
  c.list = windowedList(c.viewport, c.ul, { key: (j) => j.id, version: rowKey, render: renderRow });
  c.stopBtn = el('button', { type: 'button', class: 'btn', id: 'invite-stop', onclick: stop }, 'Stop');
  c.banner = el('div', { class: 'banner warn', role: 'status' },
    el('span', { class: 'banner-text' }, 'The server only sends a few invitation emails per hour. The rest wait and go out by themselves — or create links now and send them yourself.'),
    el('span', { class: 'banner-actions' }, el('button', { type: 'button', class: 'btn small', id: 'switch-links', onclick: switchLinks }, 'Create links instead')));
  resultsCard.append(
    el('div', { class: 'toolbar' }, c.title, el('span', { class: 'spacer' }), c.stopSlot),
    el('div', { class: 'progress-row' }, c.progress, c.counts),
    c.bannerSlot,
    c.viewport,
  );
  return c;
}

function setChild(slot, node) {
  if (node ? slot.firstChild !== node : slot.firstChild) {
    clear(slot);
    if (node) slot.append(node);
  }
}

function renderResults() {
  const s = lastStatus;
  if (!s) return;
  if (!card) card = buildCard();
  // Counts and flags come from Rust (BatchStatus): no state word is compared here.
  const done = s.settled;
  const pct = s.total ? Math.round((done / s.total) * 100) : 0;
  card.title.textContent = s.finished ? 'Results' : `Inviting ${plural(s.total, 'person', 'people')}…`;
  // A paused batch is not running, but it is not done either: it can still be stopped.
  setChild(card.stopSlot, s.stoppable ? card.stopBtn : null);
  card.progress.setAttribute('aria-valuemax', String(s.total));
  card.progress.setAttribute('aria-valuenow', String(done));
  card.bar.dataset.pct = String(pct);
  // Width through CSSOM (allowed by the CSP, unlike a style attribute).
  card.bar.style.width = `${pct}%`;
  card.counts.textContent = `${done} of ${s.total} done`;
  const waiting = s.counts.waiting > 0;
  setChild(card.bannerSlot, waiting && caps && caps.copyLink && !s.finished ? card.banner : null);
  card.list.update(s.jobs);
  announce(s, done);
  renderSummary();
}

// The live region says where the batch stands in one sentence: at most every 5 s while it runs,
// and once at the end. The list itself is not live (a screen reader would read every row).
function announce(s, done) {
  const failed = s.counts.failed || 0;
  const sentence = s.finished
    ? `Done: ${done} of ${s.total} finished${failed ? `, ${failed} failed` : ''}.`
    : `${done} of ${s.total} done${failed ? `, ${failed} failed` : ''}.`;
  const now = performance.now();
  if (sentence === lastAnnounced.text) return;
  if (!s.finished && lastAnnounced.text && now - lastAnnounced.at < 5000) return;
  live.textContent = sentence;
  lastAnnounced = { text: sentence, at: now };
}

async function stop() {
  if (!batch) return;
  try {
    await api.stopBatch(batch.batchId);
    toast('Stopped. Nothing more will be sent.');
    // The rows now say what was not sent; the Stop button they were reached by is gone, and the
    // toast would otherwise sit over the heading at the bottom of the window.
    showResults();
  } catch (e) { resultsCard.append(errorBox(e)); }
}

// The results are below the fold on a small window: bring them into view.
function showResults() {
  resultsCard.scrollIntoView({ block: 'start', behavior: matchMedia('(prefers-reduced-motion: reduce)').matches ? 'auto' : 'smooth' });
}

// Each says what it did, so an earlier "Stopped" toast is not left standing over the result.
async function retry(j) {
  try { await api.retryJob(j.id); toast(`${j.email} is back in the queue.`); } catch (e) { resultsCard.append(errorBox(e)); }
}

async function resume() {
  if (!batch) return;
  try { await api.resumeWorkspace(batch.workspaceId); toast('Resumed: the waiting invitations go out now.'); } catch (e) { resultsCard.append(errorBox(e)); }
}

async function switchLinks() {
  if (!batch) return;
  try { await api.switchToLinks(batch.batchId); } catch (e) { resultsCard.append(errorBox(e)); }
}
