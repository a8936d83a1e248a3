/**
 * JupyterLab / Notebook 7 plugin: inserts the code the kernel sends on the
 * `kfp_nbsecrets.insert_cell` comm (the secret picker's "As code") as a new cell below.
 * The MIME renderer is the package's other entry point (`index.ts`, `jupyterlab.mimeExtension`).
 */
import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { INotebookTracker } from '@jupyterlab/notebook';

import { watchNotebooks } from './insert';

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'kfp-nbsecrets:insert-cell',
  description: 'Inserts the code sent by the kfp-nbsecrets secret picker ("As code") as a new cell below.',
  autoStart: true,
  requires: [INotebookTracker],
  activate: (_app: JupyterFrontEnd, tracker: INotebookTracker): void => {
    watchNotebooks(tracker);
  }
};

export default plugin;
