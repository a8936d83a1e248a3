/**
 * "As code": the kernel asks the notebook to insert code as a new cell.
 *
 * `kfp_nbsecrets.widgets.picker.send_insert_cell(code)` opens a comm with the target
 * `kfp_nbsecrets.insert_cell`; the code travels in the comm_open data (`{"code": "..."}`) and the
 * kernel closes the comm right after. This module registers that target on the kernel of every
 * notebook (again whenever the notebook's kernel changes) and inserts an unexecuted code cell below
 * the cell whose output asked for it: the executing cell when the request came from a cell
 * execution, the cell whose output was last clicked or typed in when it came from a widget (the
 * picker's "As code" button), otherwise the active cell.
 *
 * Only structural types are used here (no JupyterLab runtime import), so the logic runs in the unit
 * tests with a fake notebook; `plugin.ts` wires it to the real `INotebookTracker`.
 */
import type { Kernel, KernelMessage } from '@jupyterlab/services';
import type { ISignal } from '@lumino/signaling';

/** The comm target; `INSERT_CELL_TARGET` in `kfp_nbsecrets/widgets/picker.py`. */
export const INSERT_CELL_TARGET = 'kfp_nbsecrets.insert_cell';
/** Longest code accepted, in UTF-16 code units; longer payloads are ignored. */
export const MAX_CODE_LENGTH = 100_000;

/** The parts of a kernel connection used here. */
export type KernelLike = Pick<
  Kernel.IKernelConnection,
  'clientId' | 'isDisposed' | 'registerCommTarget' | 'removeCommTarget'
>;

/** The parts of a cell widget used here (code cells have an output area). */
export interface ICellLike {
  readonly node: HTMLElement;
  readonly model: { readonly id: string };
  readonly outputArea?: {
    readonly node: HTMLElement;
    readonly future: { readonly msg: { readonly header: { readonly msg_id: string } } } | null;
  };
}

/** The parts of a notebook widget used here. */
export interface INotebookLike {
  readonly node: HTMLElement;
  readonly isDisposed: boolean;
  readonly widgets: ReadonlyArray<ICellLike>;
  readonly activeCell: ICellLike | null;
  readonly model: {
    readonly sharedModel: {
      readonly cells: ReadonlyArray<{ readonly id: string }>;
      insertCell(
        index: number,
        cell: { cell_type: 'code'; source: string; metadata: { trusted: boolean } }
      ): unknown;
    };
  } | null;
}

/** The parts of a notebook panel used here. */
export interface IPanelLike {
  readonly content: INotebookLike;
  readonly isDisposed: boolean;
  readonly disposed: ISignal<any, void>;
  readonly sessionContext: {
    readonly session: { readonly kernel: KernelLike | null } | null;
    readonly kernelChanged: ISignal<any, { readonly newValue: KernelLike | null }>;
  };
}

/** The parts of the notebook tracker used here. */
export interface ITrackerLike {
  readonly widgetAdded: ISignal<any, IPanelLike>;
  forEach(callback: (panel: IPanelLike) => void): void;
}

/** The code of a comm_open payload, or null when it is not `{"code": <non-empty bounded string>}`. */
export function readCode(data: unknown): string | null {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return null;
  }
  const code = (data as { code?: unknown }).code;
  if (typeof code !== 'string' || code.length === 0 || code.length > MAX_CODE_LENGTH) {
    return null;
  }
  return code;
}

/**
 * Keeps the comm target registered on one notebook's kernel and inserts the cells it asks for.
 */
export class InsertCellHandler {
  constructor(panel: IPanelLike) {
    this._panel = panel;
    const node = panel.content.node;
    // capture: widgets may stop the propagation of their own events
    node.addEventListener('pointerdown', this._onInteraction, true);
    node.addEventListener('keydown', this._onInteraction, true);
    panel.sessionContext.kernelChanged.connect(this._onKernelChanged, this);
    panel.disposed.connect(this.dispose, this);
    this._setKernel(panel.sessionContext.session?.kernel ?? null);
  }

  /** The kernel the target is registered on. */
  get kernel(): KernelLike | null {
    return this._kernel;
  }

  /**
   * Handle one comm_open on the target: insert its code below the right cell.
   * Returns the index of the new cell, or -1 when nothing was inserted.
   */
  handleOpen(msg: KernelMessage.ICommOpenMsg): number {
    const notebook = this._panel.content;
    const model = notebook.model;
    if (this._panel.isDisposed || notebook.isDisposed || !model) {
      return -1;
    }
    const code = readCode(msg.content?.data);
    if (code === null) {
      console.warn(
        `kfp-nbsecrets: ignored a ${INSERT_CELL_TARGET} request without code (a string of 1 to ` +
          `${MAX_CODE_LENGTH} characters)`
      );
      return -1;
    }
    const parent = (msg.parent_header ?? {}) as Partial<KernelMessage.IHeader>;
    // Several connections (other notebooks, consoles) can share a kernel and each receives the
    // comm_open: only the one whose request caused it inserts the cell.
    if (parent.session && this._kernel && parent.session !== this._kernel.clientId) {
      return -1;
    }
    const cells = model.sharedModel.cells;
    const below = this._findCell(parent);
    let index = below ? cells.findIndex(cell => cell.id === below.model.id) : -1;
    index = index === -1 ? cells.length : index + 1;
    // like set_next_input: the code comes from the kernel, so the cell is not trusted
    model.sharedModel.insertCell(index, {
      cell_type: 'code',
      source: code,
      metadata: { trusted: false }
    });
    return index;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._setKernel(null);
    const node = this._panel.content.node;
    node.removeEventListener('pointerdown', this._onInteraction, true);
    node.removeEventListener('keydown', this._onInteraction, true);
    this._panel.sessionContext.kernelChanged.disconnect(this._onKernelChanged, this);
    this._panel.disposed.disconnect(this.dispose, this);
  }

  /** The cell to insert below: executing cell, last widget interaction, active cell. */
  private _findCell(parent: Partial<KernelMessage.IHeader>): ICellLike | null {
    const widgets = this._panel.content.widgets;
    if (parent.msg_id) {
      const executing = widgets.find(cell => cell.outputArea?.future?.msg.header.msg_id === parent.msg_id);
      if (executing) {
        return executing;
      }
    }
    if (parent.msg_type !== 'execute_request' && this._lastOutputCell !== null) {
      const id = this._lastOutputCell;
      const clicked = widgets.find(cell => cell.model.id === id);
      if (clicked) {
        return clicked;
      }
    }
    return this._panel.content.activeCell;
  }

  /** Remember the cell whose output the user last clicked or typed in (a widget lives there). */
  private _onInteraction = (event: Event): void => {
    const target = event.target;
    if (!(target instanceof Node)) {
      return;
    }
    for (const cell of this._panel.content.widgets) {
      if (cell.node.contains(target)) {
        if (cell.outputArea?.node.contains(target)) {
          this._lastOutputCell = cell.model.id;
        }
        return;
      }
    }
  };

  private _onKernelChanged(_: unknown, change: { readonly newValue: KernelLike | null }): void {
    this._setKernel(change.newValue);
  }

  private _setKernel(kernel: KernelLike | null): void {
    if (this._kernel && this._kernel !== kernel && !this._kernel.isDisposed) {
      this._kernel.removeCommTarget(INSERT_CELL_TARGET, this._onCommOpen);
    }
    this._kernel = kernel;
    if (kernel && !kernel.isDisposed && !this._isDisposed) {
      // idempotent: registering the same callback again replaces it
      kernel.registerCommTarget(INSERT_CELL_TARGET, this._onCommOpen);
    }
  }

  private _onCommOpen = (_comm: Kernel.IComm, msg: KernelMessage.ICommOpenMsg): void => {
    // the kernel closes the comm itself; a failure here must not break the kernel connection
    try {
      this.handleOpen(msg);
    } catch (error) {
      console.error('kfp-nbsecrets: could not insert the cell', error);
    }
  };

  private _panel: IPanelLike;
  private _kernel: KernelLike | null = null;
  private _lastOutputCell: string | null = null;
  private _isDisposed = false;
}

/** Register the target on the kernels of the notebooks open now and of every notebook opened later. */
export function watchNotebooks(tracker: ITrackerLike): void {
  const watch = (panel: IPanelLike): void => {
    if (!panel.isDisposed) {
      new InsertCellHandler(panel);
    }
  };
  tracker.forEach(watch);
  tracker.widgetAdded.connect((_, panel) => watch(panel));
}
