// History: what Invite Desk sent, to whom, when, from which workspace and with what result —
// read from the local outbox database. Filter, page, Export CSV into the Downloads folder.

import * as api from '../api.js';
import { app, subscribe } from '../store.js';
import { el, clear, when, plural, debounce, toast, newestOnly } from '../ui.js';
import { errorBox } from '../errors.js';

const PAGE = 100;
const RESULT_TEXT = {
  invited: 'Invited', linked: 'Link created', updated: 'Updated and re-sent', alreadyMember: 'Already a member',
  failed: 'Failed', waiting: 'Waiting', uncertain: 'Checking', paused: 'Paused', cancelled: 'Stopped', queued: 'Queued', sending: 'Sending',
};
const PILL = { invited: 'invited', linked: 'linked', updated: 'invited', alreadyMember: 'member', failed: 'failed', waiting: 'waiting', uncertain: 'uncertain', paused: 'paused', cancelled: 'cancelled', queued: 'queued', sending: 'sending' };

let section;
let wsSel;
let resultSel;
let search;
let status;
// Whether the status line shows a failed refresh (cleared by the next good one) rather than what
// the owner did (an export's "Saved …", which a refresh in the background must not wipe).
let statusIsRefreshError = false;
let tableBox;
let pager;
const f = { workspaceId: null, result: null, search: '', offset: 0 };
const ask = newestOnly();

export function mount(sec) {
  section = sec;
  wsSel = el('select', { id: 'hist-ws', 'aria-label': 'Workspace' });
  resultSel = el('select', { id: 'hist-result', 'aria-label': 'Result' },
    el('option', { value: '' }, 'Every result'),
    ...['invited', 'linked', 'updated', 'alreadyMember', 'failed', 'waiting', 'paused', 'cancelled'].map((r) => el('option', { value: r }, RESULT_TEXT[r])));
  search = el('input', { type: 'search', id: 'hist-search', placeholder: 'Search by address', 'aria-label': 'Search history' });
  status = el('div', { class: 'status-line', id: 'hist-status', role: 'status', 'aria-live': 'polite' });
  tableBox = el('div', { class: 'table-wrap', id: 'hist-table' });
  pager = el('div', { class: 'pager' });
  sec.append(
    el('div', { class: 'view-head' },
      el('div', {}, el('h1', { id: 'history-title' }, 'History'), el('p', { class: 'sub' }, 'Every invitation Invite Desk sent from this computer, kept here even after a workspace is removed.')),
      el('span', { class: 'spacer' }),
      el('button', { type: 'button', class: 'btn', id: 'hist-export', onclick: exportCsv }, 'Export CSV…')),
    el('div', { class: 'toolbar' }, search, wsSel, resultSel),
    status, tableBox, pager);
  wsSel.addEventListener('change', () => { f.workspaceId = wsSel.value || null; f.offset = 0; render(); });
  resultSel.addEventListener('change', () => { f.result = resultSel.value || null; f.offset = 0; render(); });
  search.addEventListener('input', debounce(() => { f.search = search.value; f.offset = 0; render(); }, 150));
  api.on('outbox', debounce(() => { if (!section.hidden) render(); }, 500));
  subscribe(() => { fillWorkspaces(); if (!section.hidden) render(); });
  fillWorkspaces(); // built after the first screen: the list is already known
}

function fillWorkspaces() {
  const keep = wsSel.value;
  clear(wsSel).append(el('option', { value: '' }, 'Every workspace'), ...app.workspaces.map((w) => el('option', { value: w.id }, w.name)));
  wsSel.value = keep;
}

export function shown() {
  render();
}

function filter() {
  return { workspaceId: f.workspaceId, result: f.result, search: f.search, offset: f.offset, limit: PAGE };
}

async function render() {
  const current = ask();
  let r;
  try {
    r = await api.history(filter());
    if (!current()) return;
    if (statusIsRefreshError) clear(status);
    statusIsRefreshError = false;
  } catch (e) {
    if (!current()) return;
    clear(status).append(errorBox(e));
    statusIsRefreshError = true;
    return;
  }
  clear(tableBox);
  if (!r.rows.length) {
    tableBox.append(el('div', { class: 'table-empty' }, f.search || f.result || f.workspaceId ? 'Nothing matches these filters.' : 'Nothing sent yet. Invitations you send appear here.'));
  } else {
    const body = el('tbody');
    for (const h of r.rows) {
      body.append(el('tr', { 'data-email': h.email, 'data-result': h.result },
        el('td', { class: 'when' }, when(h.at)),
        el('td', { class: 'addr', title: h.workspaceName }, h.workspaceName),
        el('td', { class: 'addr', title: h.email }, h.email),
        el('td', {}, el('span', { class: `pill ${PILL[h.result] || ''}` }, RESULT_TEXT[h.result] || h.result), h.detail ? el('span', { class: 'hint' }, ` ${h.detail}`) : null)));
    }
    tableBox.append(el('table', { class: 'data', 'aria-label': 'History' },
      el('colgroup', {}, el('col', { class: 'c-when' }), el('col', { class: 'c-ws' }), el('col', {}), el('col', { class: 'c-result' })),
      el('thead', {}, el('tr', {}, ...['When', 'Workspace', 'Address', 'Result'].map((t) => el('th', { scope: 'col' }, t)))), body));
  }
  clear(pager);
  const to = Math.min(f.offset + PAGE, r.total);
  pager.append(el('span', {}, r.total ? `${f.offset + 1}–${to} of ${plural(r.total, 'entry', 'entries')}` : ''),
    el('span', { class: 'btns' },
      el('button', { type: 'button', class: 'btn small', disabled: f.offset === 0, onclick: () => { f.offset = Math.max(0, f.offset - PAGE); render(); } }, 'Previous'),
      el('button', { type: 'button', class: 'btn small', disabled: to >= r.total, onclick: () => { f.offset += PAGE; render(); } }, 'Next')));
}

// The native Save dialog opens on Downloads with a dated name; the file opens in Excel, Numbers
// or Google Sheets (UTF-8 with a BOM, so accented names survive Excel).
async function exportCsv() {
  try {
    const saved = await api.exportHistoryAs({ ...filter(), offset: 0, limit: null });
    if (!saved) return;
    clear(status).append(`Saved ${saved.path}`);
    statusIsRefreshError = false;
    toast(`Saved ${saved.name}`, { label: 'Show in folder', run: () => api.showInFolder(saved.path).catch((e) => clear(status).append(errorBox(e))) });
  } catch (e) { clear(status).append(errorBox(e)); }
}
