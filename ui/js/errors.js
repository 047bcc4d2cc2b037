// Every error kind the core can report, as a plain sentence plus what to do next.
// The core's own message (already plain, and specific: it names the address or the key) is the
// headline; this table adds the next step; the server's words go in a "Details" disclosure.

import { el } from './ui.js';
import { app } from './store.js';

const NEXT = {
  invalid_input: 'Check the highlighted field and try again.',
  invalid_email: 'Correct the address, or remove it from the list.',
  invalid_url: 'Use the full address that starts with https:// (plain http:// only works for this computer).',
  not_admin: 'Use a key or account that is allowed to invite people.',
  wrong_key: 'Check which key the service asks for and paste that one here.',
  signed_out: 'Sign in again in Workspaces. Nothing you were doing is lost: waiting invitations are sent after you sign in.',
  already_member: 'Nothing to do: this person can already sign in.',
  not_pending: 'Refresh the list to see where this invitation stands now.',
  not_found: 'Refresh the list: it may have been accepted or cancelled somewhere else.',
  rate_limited: 'Nothing is lost: the waiting invitations are sent automatically when the server allows. Where the service can make links, you can create links to copy instead.',
  server: 'Try again in a moment. If it keeps happening, the service may be having an outage.',
  uncertain: 'Invite Desk looks the address up before trying again, so nobody is invited twice.',
  network: 'Check the internet connection and the workspace address, then try again.',
  wrong_server: 'Check the workspace address: copy it again from the service’s dashboard.',
  bad_response: 'Try again. If it keeps happening, copy the diagnostics (Workspaces) and send them to support.',
  unsupported: 'This kind of workspace can’t do that; the option is hidden where Invite Desk knows it in advance.',
  rejected: 'Read the server’s words under Details; they usually say what to change.',
  keychain_unavailable: 'Do what the message above says for your system’s keychain, then restart Invite Desk — or choose “Use for this session only”.',
  secret_missing: 'Open Workspaces, remove this workspace and add it again with its key.',
  unknown_workspace: 'Pick another workspace in the header, or add it again.',
  storage: 'Check that the disk is not full and that your user can write to your home folder.',
  cancelled: 'You stopped it. Nothing more will be sent.',
  update_not_trusted: 'Nothing was changed. Download Invite Desk from its release page instead, and tell support.',
  update_check_failed: 'Check the internet connection and try again later. Nothing was changed; Invite Desk also checks by itself each time it starts.',
  update_waits: 'Click Install again when the batch is done. Invitations waiting for an email limit or a connection carry on after the restart.',
  response_too_large: 'Check the workspace address: it should be the service’s API, not a web page or a download. If it is right, try again later.',
  untrusted_certificate: 'If the server uses your organization’s own certificate authority, ask IT to install it on this computer. Otherwise check the address: the certificate may be for another name.',
  redirected: 'Change the workspace address to the one named above (Workspaces → Settings), then try again.',
  secret_needed: 'The address changed, so enter the key or password for the new address. The old one is never sent there.',
  outbox_too_new: 'Install the newer Invite Desk again; your invitations are kept as they were.',
  internal: 'Try again. If it keeps happening, restart Invite Desk and copy the diagnostics for support.',
};

// Where the next step depends on the service, its own words: a Netlify owner must never be told
// about Supabase's service_role key.
const BY_SERVICE = {
  not_admin: {
    supabase: 'Use the secret key (starts with sb_secret_) or the legacy service_role key from Project Settings → API Keys; the anon or publishable key can’t invite.',
    gotrue: 'Use the server’s GOTRUE_JWT_SECRET (or its operator token); on Supabase’s GoTrue, the admin role must be one listed in GOTRUE_JWT_ADMIN_ROLES.',
    netlify: 'Sign in with an Identity user that has the role “admin” on this site, and check that the Invite Desk function is deployed.',
    royalti: 'Use a workspace API key (starts with RWAK) or an account that is an owner or admin of this workspace.',
  },
  wrong_key: {
    supabase: 'Copy the secret key (sb_secret_…) or the service_role key from Project Settings → API Keys and paste it here.',
    gotrue: 'Paste the GOTRUE_JWT_SECRET value from the server’s environment, not a token made from it.',
    netlify: 'Enter the email and password of your Identity user on this site.',
    royalti: 'Paste a workspace API key from Settings → API keys (it starts with RWAK).',
  },
  secret_missing: {
    netlify: 'Open Workspaces and sign in to this site again.',
    royalti: 'Open Workspaces and sign in to this workspace again.',
  },
  rate_limited: {
    supabase: 'Nothing is lost: the waiting invitations are sent automatically when Supabase allows (its built-in email service sends only a few emails an hour). You can create links to copy instead.',
    netlify: 'Nothing is lost: the waiting invitations are sent automatically when Netlify allows.',
    royalti: 'Nothing is lost: the waiting invitations are sent automatically when Royalti allows.',
  },
  wrong_server: {
    supabase: 'Check the Project URL: Project Settings → Data API in the Supabase dashboard.',
    gotrue: 'Check the server address: GoTrue’s /health page should load there.',
    netlify: 'Check the site address: Site configuration → General → Site details in Netlify.',
  },
};

/** The service the error is about: the one the caller names, else the current workspace's. */
function serviceOf(service) {
  if (service) return service;
  const ws = app.current();
  return ws ? ws.kind : null;
}

const FALLBACK_TITLE = {
  internal: 'Something went wrong inside Invite Desk.',
};

/** The plain sentence and the next step for an error from api.js. `service` (supabase, gotrue,
 *  netlify, royalti) picks that service's next step; by default the current workspace's. */
export function explain(err, service = null) {
  const e = err && typeof err === 'object' ? err : { kind: 'internal', message: String(err) };
  const kind = NEXT[e.kind] ? e.kind : 'internal';
  const title = e.message || FALLBACK_TITLE[kind] || FALLBACK_TITLE.internal;
  const svc = serviceOf(service);
  const next = (BY_SERVICE[kind] && svc && BY_SERVICE[kind][svc]) || NEXT[kind];
  return { kind: e.kind || 'internal', title, next, detail: e.detail || null, service: svc };
}

/** A box with the sentence, the next step and a Details disclosure. */
export function errorBox(err, { compact = false, retry = null, service = null } = {}) {
  const x = explain(err, service);
  const box = el('div', { class: 'error-box', role: 'alert', 'data-kind': x.kind, 'data-service': x.service || undefined });
  box.append(el('p', { class: 'err-title' }, x.title));
  if (!compact || x.kind !== 'invalid_input') box.append(el('p', { class: 'err-next' }, x.next));
  if (retry) {
    box.append(el('button', { type: 'button', class: 'btn small', 'data-action': 'retry', onclick: () => { box.remove(); retry(); } }, 'Try again'));
  }
  if (x.detail) {
    const d = el('details');
    d.append(el('summary', {}, 'Details'), el('pre', {}, x.detail));
    box.append(d);
  }
  return box;
}

/** A one-line reason (for result rows), keeping the server's words in a tooltip-free disclosure. */
export function shortReason(err) {
  const x = explain(err);
  return x.title;
}

export const KINDS = Object.keys(NEXT);
