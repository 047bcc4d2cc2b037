// What every view needs to know: the app info, the workspace list and the current workspace.
// Views subscribe; main.js loads. Kept tiny on purpose.

import * as api from './api.js';

const listeners = new Set();

export const app = {
  info: null,
  workspaces: [],
  currentId: null,
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

/** Re-reads the list from Rust and tells every view. */
export async function reloadWorkspaces() {
  const r = await api.listWorkspaces();
  app.workspaces = r.workspaces || [];
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
