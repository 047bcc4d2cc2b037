// The first screen: what to do first when there is no workspace yet.

import * as api from '../api.js';
import { reloadWorkspaces } from '../store.js';
import { clear } from '../ui.js';
import { errorBox } from '../errors.js';
import { openAddWorkspace } from './add-workspace.js';

export function mount(section, nav) {
  const status = section.querySelector('#empty-status');
  const demoBtn = section.querySelector('#empty-demo');
  section.querySelector('#empty-add').addEventListener('click', () => openAddWorkspace());
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
