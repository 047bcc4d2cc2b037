// The one door to Rust. Every other module calls these functions; nothing else calls `invoke`.
//
// Errors from commands arrive as `{kind, message, detail}` (src-tauri/error.rs). Anything else
// (a Tauri-level failure) is normalised to the same shape so views handle one kind of error.
//
// A test recorder: when the app was started with INVITE_DESK_RECORD_IPC=1, every response and
// event payload is kept in `window.__inviteDeskIpcLog` so the end-to-end test can prove that no
// secret ever crossed into the web view.

const tauri = window.__TAURI__;
let recording = true; // until appInfo() says otherwise, so its own answer is kept too
const log = [];
Object.defineProperty(window, '__inviteDeskIpcLog', { get: () => log });

function record(cmd, value) {
  if (!recording) return;
  try {
    log.push(JSON.stringify({ cmd, value }));
  } catch {
    log.push(JSON.stringify({ cmd, value: String(value) }));
  }
}

function normaliseError(e) {
  if (e && typeof e === 'object' && typeof e.kind === 'string') return e;
  return { kind: 'internal', message: typeof e === 'string' ? e : 'Something went wrong inside Invite Desk.', detail: typeof e === 'string' ? e : JSON.stringify(e) };
}

async function call(cmd, args = {}) {
  if (!tauri || !tauri.core) {
    throw { kind: 'internal', message: 'Invite Desk must be opened as the desktop app.', detail: 'window.__TAURI__ is missing' };
  }
  try {
    const value = await tauri.core.invoke(cmd, args);
    record(cmd, value);
    return value;
  } catch (e) {
    record(cmd, e);
    throw normaliseError(e);
  }
}

// The first screen's three answers are asked for the moment this module runs. index.html starts
// it on its own, before the other modules have arrived, so the answers travel while the rest of
// the page loads instead of after it. Each early answer serves only the first call for it.
const early = new Map();
for (const cmd of ['app_info', 'workspace_forms', 'list_workspaces']) {
  const answer = call(cmd);
  answer.catch(() => {}); // its first caller handles a failure
  early.set(cmd, answer);
}
function first(cmd) {
  const answer = early.get(cmd);
  if (!answer) return call(cmd);
  early.delete(cmd);
  return answer;
}

/** Listens to a Rust event; returns the unlisten function. */
export async function on(event, handler) {
  if (!tauri || !tauri.event) return () => {};
  return tauri.event.listen(event, (ev) => {
    record(`event:${event}`, ev.payload);
    handler(ev.payload);
  });
}

// ---- app ----
export async function appInfo() {
  const info = await first('app_info');
  recording = !!info.recordIpc;
  if (!recording) log.length = 0;
  return info;
}
export const useSessionStore = () => call('use_session_store');
export const diagnostics = () => call('diagnostics');
/** What opening the outbox had to do at start-up (a damaged file set aside…), or null. */
export const outboxNotice = () => call('outbox_notice');
/** A newer version, its package already downloaded and verified ({version, currentVersion, notes, date}), or null. */
export const checkUpdate = () => call('check_update');
/** Installs the verified update and restarts; refused while invitations are being sent. */
export const installUpdate = () => call('install_update');

// ---- workspaces ----
export const listWorkspaces = () => first('list_workspaces');
export const workspaceDetails = (id) => call('workspace_details', { id });
export const setCurrentWorkspace = (id) => call('set_current_workspace', { id });
export const testConnection = (draft, secrets) => call('test_connection', { draft, secrets });
/** After a passed test of the same draft, `checkId` stands in for the secrets (sent once). */
export const addWorkspace = (draft, secrets, checkId = null) => call('add_workspace', { draft, secrets, checkId });
/** Whether the passed test `checkId` still stands for `draft` (only the name or sending settings changed). */
export const checkCovers = (checkId, draft) => call('check_covers', { checkId, draft });
export const renameWorkspace = (id, name) => call('rename_workspace', { id, name });
export const removeWorkspace = (id) => call('remove_workspace', { id });
export const editWorkspace = (id, settings) => call('edit_workspace', { id, settings });
/** A new address or connection option, checked before it is saved; a new server needs `secrets` again. */
export const editConnection = (id, settings, secrets = null) => call('edit_connection', { id, settings, secrets });
export const updateSecrets = (workspaceId, secrets) => call('update_secrets', { workspaceId, secrets });
export const startDemo = () => call('start_demo');
export const demoMailbox = (id) => call('demo_mailbox', { id });
export const demoAccept = (id, link) => call('demo_accept', { id, link });
/** Every back end's forms (fields, sign-in modes, settings), in the order they are offered. */
export const workspaceForms = () => first('workspace_forms');
export const netlifyFunction = () => call('netlify_function');
export const saveNetlifyFunction = (fileName) => call('save_netlify_function', { fileName });
export const royaltiSignIn = (baseUrl, email, password) => call('royalti_sign_in', { baseUrl, email, password });
export const royaltiAdd = (signInId, picks, keepSignedIn) => call('royalti_add', { signInId, picks, keepSignedIn });

// ---- invite ----
/** Counts plus the first `limit` rows; the whole result stays in Rust under `parseId`. */
export const parseRecipients = (workspaceId, text, limit = null) => call('parse_recipients', { workspaceId, text, limit });
export const parseCsv = (workspaceId, bytes, limit = null) => call('parse_csv', { workspaceId, bytes, limit });
export const parsedEntries = (parseId, offset, limit) => call('parsed_entries', { parseId, offset, limit });
/** Invites the valid addresses of a parse with {message, redirectUrl, sendEmail}. */
export const enqueueParsed = (workspaceId, parseId, options) => call('enqueue_parsed', { workspaceId, parseId, options });
export const enqueueInvites = (workspaceId, requests) => call('enqueue_invites', { workspaceId, requests });
export const batchStatus = (batchId) => call('batch_status', { batchId });
/** Counts of the whole batch plus only the rows changed since `cursor` (0: all); pass back the answer's `cursor`. */
export const batchChanges = (batchId, cursor = 0) => call('batch_changes', { batchId, cursor });
export const stopBatch = (batchId) => call('stop_batch', { batchId });
export const retryJob = (jobId) => call('retry_job', { jobId });
export const switchToLinks = (batchId) => call('switch_to_links', { batchId });
export const unfinished = () => call('unfinished');
export const pauseWorkspace = (workspaceId) => call('pause_workspace', { workspaceId });
export const resumeWorkspace = (workspaceId) => call('resume_workspace', { workspaceId });

// ---- invitations ----
export const refreshInvitations = (workspaceId) => call('refresh_invitations', { workspaceId });
export const queryInvitations = (workspaceId, query) => call('query_invitations', { workspaceId, query });
export const resendInvite = (workspaceId, invite) => call('resend_invite', { workspaceId, invite });
export const cancelInvite = (workspaceId, invite) => call('cancel_invite', { workspaceId, invite });
export const inviteLink = (workspaceId, invite) => call('invite_link', { workspaceId, invite });
/** Fetches the link and puts it on the clipboard in Rust: the link never passes through the page. */
export const copyInviteLink = (workspaceId, invite) => call('copy_invite_link', { workspaceId, invite });

// ---- desktop ----
/** The system clipboard, written from Rust (works after an await, on every OS). */
export const copyText = (text) => call('copy_text', { text });
/** Native Save dialog; resolves {path, name}, or null when the owner cancelled. */
export const exportHistoryAs = (filter) => call('export_history_as', { filter });
export const saveNetlifyFunctionAs = () => call('save_netlify_function_as');
/** Opens the file manager on a file Invite Desk saved, with the file selected. */
export const showInFolder = (path) => call('show_in_folder', { path });
/** Tells Rust when the first frame with content was drawn, and the page's milestones before it
 *  (the start-up benchmark reads them). */
export const pagePainted = (at, marks) => call('page_painted', { at, marks });

// ---- history ----
export const history = (filter) => call('history', { filter });
export const exportHistory = (filter, fileName) => call('export_history', { filter, fileName });
