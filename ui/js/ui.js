// Small DOM helpers shared by the views. No framework: elements are built with `el` and text is
// always set as text (never innerHTML), so nothing from a server or a paste can inject markup.

import * as api from './api.js';

/** Creates an element: el('button', {class: 'btn', onclick: f}, 'Text', child…). */
/** The services by the names owners know them. */
export const KIND_LABEL = { supabase: 'Supabase', gotrue: 'Self-hosted GoTrue', netlify: 'Netlify Identity', royalti: 'Royalti' };

let painted;
/**
 * Resolves once the first screen is painted (main.js says when), or after 3 s (a window that
 * starts hidden draws no frame): work that screen does not need for it, such as a round trip to
 * the server, waits for it.
 */
export const firstPaint = new Promise((resolve) => { painted = resolve; setTimeout(resolve, 3000); });
export function firstPaintDone() { painted(); }

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
    else if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else if (v === true) node.setAttribute(k, '');
    else node.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

/** Scrolls `node` into view. In a dialog, its action bar sticks to the bottom and would cover
 *  what scrollIntoView brings in last (an error under the form): the dialog scrolls on until
 *  the node clears the bar, as far as its top stays in sight. */
export function reveal(node) {
  node.scrollIntoView({ block: 'nearest' });
  const box = node.closest('dialog');
  const bar = box && [...box.querySelectorAll('.dialog-actions')].find((b) => !b.contains(node));
  if (!bar) return;
  const n = node.getBoundingClientRect();
  const limit = bar.getBoundingClientRect().top - 8;
  if (n.bottom <= limit) return;
  const room = Math.max(0, n.top - box.getBoundingClientRect().top - 8);
  box.scrollTop += Math.min(n.bottom - limit, room);
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

let toastTimer = null;
/** A short, polite message at the bottom of the window; with `action` ({label, run}) a button
 *  beside it, and the toast stays long enough to reach it with the keyboard. */
export function toast(text, action = null) {
  const t = document.getElementById('toast');
  clear(t);
  t.append(el('span', { class: 'toast-text' }, text));
  t.classList.toggle('has-action', !!action);
  if (action) {
    t.append(el('button', { type: 'button', class: 'btn small toast-action', onclick: () => { t.classList.remove('show'); action.run(); } }, action.label));
  }
  t.classList.add('show');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => t.classList.remove('show'), action ? 10000 : 2600);
}

/** Asks a yes/no question in a modal; resolves true on confirm. Esc = keep. */
export function confirmDialog({ title, text, ok = 'Confirm', cancel = 'Keep it', danger = true }) {
  const d = document.getElementById('confirm-dialog');
  document.getElementById('confirm-title').textContent = title;
  document.getElementById('confirm-text').textContent = text;
  const okBtn = document.getElementById('confirm-ok');
  okBtn.textContent = ok;
  okBtn.className = danger ? 'btn danger' : 'btn primary';
  document.getElementById('confirm-cancel').textContent = cancel;
  d.returnValue = 'cancel';
  return new Promise((resolve) => {
    d.addEventListener('close', () => resolve(d.returnValue === 'ok'), { once: true });
    d.showModal();
    document.getElementById('confirm-cancel').focus();
  });
}

/** Asks for one line of text; resolves the text, or null when cancelled. */
export function promptDialog({ title, label, value = '', hint = '', ok = 'OK', type = 'text' }) {
  const d = document.getElementById('prompt-dialog');
  document.getElementById('prompt-title').textContent = title;
  document.getElementById('prompt-label').textContent = label;
  document.getElementById('prompt-hint').textContent = hint;
  document.getElementById('prompt-ok').textContent = ok;
  const input = document.getElementById('prompt-input');
  input.type = type;
  input.autocomplete = type === 'password' ? 'current-password' : 'off';
  input.value = value;
  d.returnValue = 'cancel';
  return new Promise((resolve) => {
    d.addEventListener('close', () => {
      const v = d.returnValue === 'ok' ? input.value : null;
      input.value = ''; // a password must not stay in the page
      resolve(v);
    }, { once: true });
    d.showModal();
    input.focus();
    input.select();
  });
}

/** Copies text to the system clipboard through Rust: WebKit refuses a page's clipboard write
 *  that is not directly in the click (macOS), and Rust's works on every OS. */
export async function copyText(text) {
  try {
    await api.copyText(text);
    return true;
  } catch {
    return false;
  }
}

// Made on first use, not when the page loads: the first one loads ICU's date patterns into the
// web process (a few MiB, and script time before the first screen, which shows no date).
const formats = new Map();
function format(name, options) {
  let f = formats.get(name);
  if (!f) formats.set(name, (f = new Intl.DateTimeFormat(undefined, options)));
  return f;
}
const dateFmt = () => format('date', { dateStyle: 'medium', timeStyle: 'short' });
// This year's dates leave the year out: the table columns stay narrow enough for small windows.
const thisYearFmt = () => format('thisYear', { month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit' });
const timeFmt = () => format('time', { hour: '2-digit', minute: '2-digit' });

/** "12 Mar, 14:05" this year, "12 Mar 2025, 14:05" before, or "—" when unknown. */
export function when(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '—';
  return (d.getFullYear() === new Date().getFullYear() ? thisYearFmt() : dateFmt()).format(d);
}

/** "14:05". */
export function clock(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : timeFmt().format(d);
}

export function plural(n, one, many) {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * For a view that asks again before the last answer came (two filter changes, a refresh in the
 * background): answers can come back in any order, and only the newest question may draw.
 * `const current = ask();` before the call, then `if (!current()) return;` after it.
 */
export function newestOnly() {
  let n = 0;
  return () => {
    const mine = ++n;
    return () => mine === n;
  };
}

/** Debounce for search-as-you-type and live parsing. */
export function debounce(fn, ms) {
  let t = null;
  return (...args) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...args), ms);
  };
}
