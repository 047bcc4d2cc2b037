// What every view needs to know: the app info, the workspace list and the current workspace.
// Views subscribe; main.js loads. Kept tiny on purpose.

import * as api from './api.js';

const listeners = new Set();

export const app = {
  info: null,
  workspaces: [],
  currentId: null,
  /** What each workspace's back end can do, by id, as the list's answer said. */
  capabilities: {},
  /** Every back end's forms, as Rust describes them (loadForms). */
  forms: [],
  /** The current workspace object, or null. */
  current() {
    return this.workspaces.find((w) => w.id === this.currentId) || null;
  },
};

export function subscribe(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function emit() {
  for (const fn of listeners) {
    try { fn(app); } catch (e) { console.warn('listener failed', e); }
  }
}

let formsLoaded = null;

/** Reads the back ends' forms from Rust once (main.js, at start); later calls reuse them. */
export function loadForms() {
  formsLoaded ||= api.workspaceForms().then((forms) => { app.forms = forms; return forms; })
    .catch((e) => { formsLoaded = null; throw e; });
  return formsLoaded;
}

/** The forms of one kind of workspace (a bare one until they are loaded). */
export function formOf(kind) {
  return app.forms.find((f) => f.kind === kind)
    || { kind, name: kind, description: '', fields: [], modes: [], settings: { connection: [], linkLifetime: false } };
}

/** Re-reads the list from Rust (or takes an answer already asked for) and tells every view. */
export async function reloadWorkspaces(listed = api.listWorkspaces()) {
  const r = await listed;
  app.workspaces = r.workspaces || [];
  app.capabilities = r.capabilities || {};
  app.currentId = r.currentId || (app.workspaces[0] && app.workspaces[0].id) || null;
  emit();
  return app;
}

/** Makes `id` the current workspace everywhere. */
export async function selectWorkspace(id) {
  if (id === app.currentId) return;
  await api.setCurrentWorkspace(id);
  app.currentId = id;
  emit();
}
