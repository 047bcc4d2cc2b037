// The demo workspace's Mailbox: the emails the practice server "sent", with their links, and
// "Accept as invitee" to play the invited person.

import * as api from '../api.js';
import { el, clear, when, toast, copyText, newestOnly } from '../ui.js';
import { errorBox } from '../errors.js';

export function mailboxPanel(ws) {
  const box = el('section', { class: 'mailbox', 'aria-labelledby': `mb-${ws.id}`, 'data-mailbox': ws.id });
  const list = el('div', { class: 'mail-body', 'aria-live': 'polite' });
  const head = el('div', { class: 'toolbar' },
    el('h3', { id: `mb-${ws.id}`, class: 'flush' }, 'Mailbox'),
    el('span', { class: 'hint' }, 'Emails the demo server would have sent. Nothing leaves this computer.'),
    el('span', { class: 'spacer' }),
    el('button', { type: 'button', class: 'btn small', 'data-action': 'mail-refresh', onclick: () => load() }, 'Refresh'));
  box.append(head, list);

  // Refresh and an accept each reload: only the newest answer draws.
  const ask = newestOnly();
  async function load() {
    const current = ask();
    try {
      const r = await api.demoMailbox(ws.id);
      if (!current()) return;
      clear(list);
      if (r.restarted) {
        list.append(el('p', { class: 'hint' }, 'The demo server restarted with Invite Desk, so it starts empty: earlier demo invitations and emails are gone.'));
      }
      if (!r.mail.length) {
        list.append(el('p', { class: 'hint' }, 'No emails yet. Invite someone from the Invite screen and the email shows up here.'));
        return;
      }
      const ul = el('ul', { class: 'mail-list' });
      for (const m of r.mail.slice().reverse()) {
        ul.append(el('li', { 'data-to': m.to },
          el('div', {},
            el('div', { class: 'mail-to' }, m.to, ' — ', m.subject || m.kind),
            el('div', { class: 'mail-meta' }, when(m.at), m.link ? ` · ${m.link}` : '')),
          el('div', { class: 'row-actions' },
            m.link ? el('button', { type: 'button', class: 'btn small', onclick: async () => { if (await copyText(m.link)) toast('Link copied'); } }, 'Copy link') : null,
            m.link && m.kind === 'invite' ? el('button', { type: 'button', class: 'btn small', 'data-action': 'accept', onclick: () => accept(m) }, 'Accept as invitee') : null)));
      }
      list.append(ul);
    } catch (e) { if (current()) clear(list).append(errorBox(e)); }
  }

  async function accept(m) {
    try {
      await api.demoAccept(ws.id, m.link);
      toast(`${m.to} accepted the invitation`);
      load();
    } catch (e) { clear(list).append(errorBox(e)); }
  }

  load();
  return box;
}
