// The first screen: what to do first when there is no workspace yet.

import * as api from '../api.js';
import { reloadWorkspaces } from '../store.js';
import { clear } from '../ui.js';
import { errorBox } from '../errors.js';

export function mount(section, nav) {
  const status = section.querySelector('#empty-status');
  const demoBtn = section.querySelector('#empty-demo');
  // Loaded on the click, not before the first paint: the first screen doesn't need it.
  section.querySelector('#empty-add').addEventListener('click', async () => {
    try {
      (await import('./add-workspace.js')).openAddWorkspace();
    } catch (e) {
      clear(status).append(errorBox({ kind: 'internal', message: 'Could not open the form.', detail: String(e) }));
    }
  });
  demoBtn.addEventListener('click', async () => {
    demoBtn.disabled = true;
    clear(status).append('Starting the demo workspace…');
    try {
      await api.startDemo();
      clear(status);
      await reloadWorkspaces();
      nav.show('invite');
    } catch (e) {
      clear(status).append(errorBox(e));
    } finally {
      demoBtn.disabled = false;
    }
  });
}
