// Invitations: the current workspace's list with status tabs and counts, search as you type,
// sort, paging (the list is filtered in Rust, so 10,000 rows stay fast), Resend, Copy link,
// Cancel (with a confirmation naming the address; never for accepted ones), Refresh.

import * as api from '../api.js';
import { app, subscribe } from '../store.js';
import { el, clear, toast, confirmDialog, when, plural, debounce, newestOnly } from '../ui.js';
import { errorBox, explain } from '../errors.js';

const PAGE = 50;
const ask = newestOnly();
const TABS = [
  { status: 'pending', label: 'Pending' },
  { status: 'accepted', label: 'Accepted' },
  { status: 'expired', label: 'Expired' },
  { status: 'cancelled', label: 'Cancelled' },
  { status: null, label: 'All' },
];
const STATUS_TEXT = { pending: 'Pending', accepted: 'Accepted', expired: 'Expired', cancelled: 'Cancelled' };

let section;
let tabsBox;
let search;
let sort;
let tableBox;
let pager;
let status;
let fetched;
let caps = null;
let loadedFor = null;
const q = { status: 'pending', search: '', sort: 'newestFirst', offset: 0 };

export function mount(sec) {
  section = sec;
  tabsBox = el('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Invitation status' });
  search = el('input', { type: 'search', id: 'inv-search', placeholder: 'Search by address or name', 'aria-label': 'Search invitations' });
  sort = el('select', { id: 'inv-sort', 'aria-label': 'Sort' },
    el('option', { value: 'newestFirst' }, 'Newest first'),
    el('option', { value: 'oldestFirst' }, 'Oldest first'),
    el('option', { value: 'emailAsc' }, 'Address A–Z'));
  const refresh = el('button', { type: 'button', class: 'btn', id: 'inv-refresh', onclick: () => load(true) }, 'Refresh');
  fetched = el('span', { class: 'hint', id: 'inv-fetched' });
  status = el('div', { class: 'status-line', id: 'inv-status', role: 'status', 'aria-live': 'polite' });
  tableBox = el('div', { class: 'table-wrap', id: 'inv-table', role: 'tabpanel' });
  pager = el('div', { class: 'pager', id: 'inv-pager' });
  sec.append(
    el('div', { class: 'view-head' },
      el('div', {}, el('h1', { id: 'invitations-title' }, 'Invitations'), el('p', { class: 'sub', id: 'inv-sub' })),
      el('span', { class: 'spacer' }), fetched, refresh),
    tabsBox,
    el('div', { class: 'toolbar' }, search, sort),
    status,
    tableBox,
    pager,
  );
  search.addEventListener('input', debounce(() => { q.search = search.value; q.offset = 0; render(); }, 120));
  sort.addEventListener('change', () => { q.sort = sort.value; q.offset = 0; render(); });
  tabsBox.addEventListener('keydown', (ev) => {
    const tabs = [...tabsBox.querySelectorAll('[role=tab]')];
    const i = tabs.indexOf(document.activeElement);
    if (i < 0) return;
    const next = ev.key === 'ArrowRight' ? (i + 1) % tabs.length : ev.key === 'ArrowLeft' ? (i - 1 + tabs.length) % tabs.length : -1;
    if (next >= 0) { ev.preventDefault(); tabs[next].focus(); tabs[next].click(); }
  });
  subscribe(() => { if (!section.hidden) shown(); });
}

export async function shown() {
  const ws = app.current();
  if (!ws) return;
  document.getElementById('inv-sub').textContent = ws.name;
  if (loadedFor !== ws.id) {
    loadedFor = ws.id;
    caps = null;
    api.workspaceDetails(ws.id).then((d) => { caps = d.capabilities; render(); }).catch(() => {});
    await load(true);
  } else {
    await render();
  }
}

async function load(fromServer) {
  const ws = app.current();
  if (!ws) return;
  if (fromServer) {
    clear(status).append('Loading invitations…');
    try {
      await api.refreshInvitations(ws.id);
      clear(status);
    } catch (e) {
      clear(status).append(errorBox(e, { retry: () => load(true) }));
    }
  }
  await render();
}

async function render() {
  const ws = app.current();
  if (!ws) return;
  const current = ask();
  let r;
  try {
    r = await api.queryInvitations(ws.id, { status: q.status, search: q.search, sort: q.sort, offset: q.offset, limit: PAGE });
  } catch (e) {
    if (!current()) return;
    clear(status).append(errorBox(e));
    return;
  }
  if (!current()) return;
  fetched.textContent = r.fetchedAt ? `Updated ${when(r.fetchedAt)}` : '';
  renderTabs(r.counts);
  renderTable(ws, r);
  renderPager(r);
}

function renderTabs(counts) {
  const focused = document.activeElement && document.activeElement.closest && document.activeElement.closest('.tabs');
  clear(tabsBox);
  for (const t of TABS) {
    const n = t.status ? counts[t.status] : counts.all;
    const selected = q.status === t.status;
    const b = el('button', {
      type: 'button', role: 'tab', class: 'tab', id: `inv-tab-${t.status || 'all'}`, 'aria-selected': String(selected),
      tabindex: selected ? '0' : '-1', 'aria-controls': 'inv-table',
    }, t.label, el('span', { class: 'count', 'data-count': t.status || 'all' }, String(n)));
    b.addEventListener('click', () => { q.status = t.status; q.offset = 0; render(); });
    tabsBox.append(b);
  }
  if (focused) tabsBox.querySelector('[aria-selected=true]')?.focus();
}

function renderTable(ws, r) {
  clear(tableBox);
  if (!r.rows.length) {
    const what = q.status ? STATUS_TEXT[q.status].toLowerCase() : '';
    tableBox.append(el('div', { class: 'table-empty' }, q.search ? `No ${what} invitations match “${q.search}”.` : `No ${what} invitations.`));
    return;
  }
  const table = el('table', { class: 'data', 'aria-label': 'Invitations' },
    el('colgroup', {}, el('col', { class: 'c-addr' }), el('col', { class: 'c-status' }), el('col', { class: 'c-when' }), el('col', { class: 'c-when expires' }), el('col', { class: 'c-actions' })),
    el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Address'), el('th', { scope: 'col' }, 'Status'),
      el('th', { scope: 'col' }, 'Sent'), el('th', { scope: 'col', class: 'expires' }, 'Expires'), el('th', { scope: 'col' }, el('span', { class: 'visually-hidden' }, 'Actions')))));
  const body = el('tbody');
  for (const inv of r.rows) {
    const open = inv.status === 'pending' || inv.status === 'expired';
    const actions = el('td', { class: 'actions' });
    if (open && (!caps || caps.resend)) actions.append(el('button', { type: 'button', class: 'btn small', 'data-action': 'resend', 'aria-label': `Resend to ${inv.email}`, onclick: () => resend(ws, inv) }, 'Resend'));
    if (open && caps && caps.copyLink) actions.append(el('button', { type: 'button', class: 'btn small', 'data-action': 'link', 'aria-label': `Copy the link for ${inv.email}`, onclick: () => copyLink(ws, inv) }, 'Copy link'));
    if (open && (!caps || caps.cancel)) actions.append(el('button', { type: 'button', class: 'btn small danger', 'data-action': 'cancel', 'aria-label': `Cancel the invitation to ${inv.email}`, onclick: () => cancel(ws, inv) }, 'Cancel'));
    body.append(el('tr', { 'data-email': inv.email, 'data-status': inv.status },
      el('td', { class: 'addr', title: inv.email }, inv.name ? `${inv.name} · ${inv.email}` : inv.email),
      el('td', {}, el('span', { class: `pill ${inv.status}` }, STATUS_TEXT[inv.status] || inv.status)),
      el('td', { class: 'when' }, when(inv.invitedAt)),
      el('td', { class: 'when expires' }, inv.status === 'accepted' ? (inv.acceptedAt ? `Joined ${when(inv.acceptedAt)}` : '—') : when(inv.expiresAt)),
      actions));
  }
  table.append(body);
  tableBox.append(table);
}

function renderPager(r) {
  clear(pager);
  const from = r.totalMatching ? q.offset + 1 : 0;
  const to = Math.min(q.offset + PAGE, r.totalMatching);
  pager.append(el('span', {}, r.totalMatching ? `${from}–${to} of ${plural(r.totalMatching, 'invitation', 'invitations')}` : ''),
    el('span', { class: 'btns' },
      el('button', { type: 'button', class: 'btn small', disabled: q.offset === 0, onclick: () => { q.offset = Math.max(0, q.offset - PAGE); render(); } }, 'Previous'),
      el('button', { type: 'button', class: 'btn small', disabled: to >= r.totalMatching, onclick: () => { q.offset += PAGE; render(); } }, 'Next')));
}

const ref = (inv) => ({ id: inv.id, email: inv.email });

async function resend(ws, inv) {
  clear(status).append(`Sending the invitation to ${inv.email} again…`);
  try {
    await api.resendInvite(ws.id, ref(inv));
    clear(status).append(`Sent the invitation to ${inv.email} again.`);
    await render();
  } catch (e) { clear(status).append(errorBox(e)); }
}

async function copyLink(ws, inv) {
  try {
    await api.copyInviteLink(ws.id, ref(inv));
    toast(`Link for ${inv.email} copied`);
  } catch (e) { clear(status).append(errorBox(e)); }
}

async function cancel(ws, inv) {
  const ok = await confirmDialog({
    title: `Cancel the invitation to ${inv.email}?`,
    text: `${inv.email} will no longer be able to join with the link they were sent. You can invite them again later.`,
    ok: 'Cancel invitation',
    cancel: 'Keep it',
  });
  if (!ok) return;
  try {
    await api.cancelInvite(ws.id, ref(inv));
    clear(status).append(`Cancelled the invitation to ${inv.email}.`);
    await render();
  } catch (e) { clear(status).append(errorBox(e)); toast(explain(e).title); }
}
