import { Signal } from '@lumino/signaling';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { INotebookTracker } from '@jupyterlab/notebook';

import plugin from '../src/plugin';
import {
  ICellLike,
  INSERT_CELL_TARGET,
  InsertCellHandler,
  IPanelLike,
  MAX_CODE_LENGTH,
  readCode,
  watchNotebooks
} from '../src/insert';

// the real package pulls the whole notebook UI; the plugin only needs its token
vi.mock('@jupyterlab/notebook', () => ({ INotebookTracker: { name: '@jupyterlab/notebook:INotebookTracker' } }));

const CODE = '%kfp_secret bind p consume db --env user=DB_USER';
const HOSTILE = '<img src=x onerror=alert(1)>';

type Callback = (comm: unknown, msg: any) => void;

/** A kernel connection that records its comm targets. */
class FakeKernel {
  constructor(readonly clientId: string) {}
  isDisposed = false;
  targets = new Map<string, Callback>();
  registerCommTarget(name: string, callback: Callback): void {
    this.targets.set(name, callback);
  }
  removeCommTarget(name: string, callback: Callback): void {
    if (this.targets.get(name) === callback) {
      this.targets.delete(name);
    }
  }
  /** The kernel opens a comm on the insert-cell target, as `send_insert_cell` does. */
  open(data: unknown, parent: Record<string, unknown> = {}): void {
    const callback = this.targets.get(INSERT_CELL_TARGET);
    if (!callback) {
      throw new Error('no target registered');
    }
    callback({}, {
      header: { msg_type: 'comm_open', msg_id: 'open-1', session: 'kernel-session' },
      parent_header: parent,
      content: { comm_id: 'c1', target_name: INSERT_CELL_TARGET, data }
    });
  }
}

interface IFakeCell extends ICellLike {
  source: string;
  outputArea?: { node: HTMLElement; future: { msg: { header: { msg_id: string } } } | null };
}

/** A notebook panel with cells in a shared model (source only) and their widgets. */
class FakePanel implements IPanelLike {
  constructor(sources: string[], kernel: FakeKernel | null) {
    document.body.append(this.content.node);
    for (const source of sources) {
      this.addCell(this.cells.length, source);
    }
    this.sessionContext.session = kernel ? { kernel } : null;
  }

  cells: IFakeCell[] = [];
  activeCellIndex = 0;
  isDisposed = false;
  disposed = new Signal<this, void>(this);
  sessionContext = {
    session: null as { kernel: FakeKernel | null } | null,
    kernelChanged: new Signal<this, { newValue: FakeKernel | null; oldValue: FakeKernel | null }>(this)
  };
  content = (() => {
    const panel = this;
    const sharedModel = {
      get cells() {
        return panel.cells.map(cell => ({ id: cell.model.id }));
      },
      insertCell(index: number, cell: { cell_type: string; source: string; metadata: unknown }) {
        expect(cell.cell_type).toBe('code');
        expect(cell.metadata).toEqual({ trusted: false });
        panel.addCell(index, cell.source);
      }
    };
    return {
      node: document.createElement('div'),
      isDisposed: false,
      get widgets() {
        return panel.cells;
      },
      get activeCell() {
        return panel.cells[panel.activeCellIndex] ?? null;
      },
      model: { sharedModel } as { sharedModel: typeof sharedModel } | null
    };
  })();

  addCell(index: number, source: string): IFakeCell {
    const node = document.createElement('div');
    const input = document.createElement('div');
    const output = document.createElement('div');
    node.append(input, output);
    const cell: IFakeCell = {
      node,
      source,
      model: { id: `cell-${FakePanel._ids++}` },
      outputArea: { node: output, future: null }
    };
    this.cells.splice(index, 0, cell);
    this.content.node.append(node);
    return cell;
  }

  changeKernel(kernel: FakeKernel | null): void {
    const oldValue = this.sessionContext.session?.kernel ?? null;
    this.sessionContext.session = kernel ? { kernel } : null;
    this.sessionContext.kernelChanged.emit({ newValue: kernel, oldValue });
  }

  get sources(): string[] {
    return this.cells.map(cell => cell.source);
  }

  private static _ids = 0;
}

afterEach(() => {
  document.body.replaceChildren();
  vi.restoreAllMocks();
});

describe('readCode', () => {
  it('accepts {code: <non-empty string>} only', () => {
    expect(readCode({ code: CODE })).toBe(CODE);
    expect(readCode({ code: 'x'.repeat(MAX_CODE_LENGTH) })).toHaveLength(MAX_CODE_LENGTH);
    for (const bad of [
      null,
      undefined,
      'code',
      42,
      [CODE],
      {},
      { code: '' },
      { code: 42 },
      { code: [CODE] },
      { code: { toString: () => CODE } },
      { code: 'x'.repeat(MAX_CODE_LENGTH + 1) }
    ]) {
      expect(readCode(bad)).toBeNull();
    }
  });
});

describe('InsertCellHandler', () => {
  it('inserts below the cell whose execution opened the comm, unexecuted and as plain text', () => {
    const kernel = new FakeKernel('client-1');
    const panel = new FakePanel(['a', 'send_insert_cell(...)', 'c'], kernel);
    new InsertCellHandler(panel);
    panel.cells[1].outputArea!.future = { msg: { header: { msg_id: 'exec-2' } } };
    panel.activeCellIndex = 2; // run-all moved on: the active cell is not the one that asked
    kernel.open({ code: HOSTILE }, { msg_id: 'exec-2', msg_type: 'execute_request', session: 'client-1' });
    expect(panel.sources).toEqual(['a', 'send_insert_cell(...)', HOSTILE, 'c']);
    expect(panel.content.node.querySelector('img')).toBeNull();
  });

  it('inserts below the cell whose output widget was clicked (comm_msg parent)', () => {
    const kernel = new FakeKernel('client-1');
    const panel = new FakePanel(['a', 'picker', 'c'], kernel);
    new InsertCellHandler(panel);
    panel.activeCellIndex = 2;
    const button = document.createElement('button');
    panel.cells[1].outputArea!.node.append(button);
    button.dispatchEvent(new Event('pointerdown', { bubbles: true }));
    kernel.open({ code: CODE }, { msg_id: 'widget-msg', msg_type: 'comm_msg', session: 'client-1' });
    expect(panel.sources).toEqual(['a', 'picker', CODE, 'c']);
    // a key press in an output counts too; a click in a cell's input does not
    const input = panel.cells[0].node.firstElementChild!;
    input.dispatchEvent(new Event('pointerdown', { bubbles: true }));
    panel.cells[3].outputArea!.node.dispatchEvent(new KeyboardEvent('keydown', { bubbles: true }));
    kernel.open({ code: 'second' }, { msg_id: 'widget-msg-2', msg_type: 'comm_msg', session: 'client-1' });
    expect(panel.sources).toEqual(['a', 'picker', CODE, 'c', 'second']);
  });

  it('falls back on the active cell, then on the end of the notebook', () => {
    const kernel = new FakeKernel('client-1');
    const panel = new FakePanel(['a', 'b'], kernel);
    new InsertCellHandler(panel);
    kernel.open({ code: 'one' }, { msg_id: 'unknown', msg_type: 'execute_request', session: 'client-1' });
    expect(panel.sources).toEqual(['a', 'one', 'b']);
    kernel.open({ code: 'two' }); // no parent header at all
    expect(panel.sources).toEqual(['a', 'two', 'one', 'b']);
    panel.activeCellIndex = -1;
    kernel.open({ code: 'three' });
    expect(panel.sources).toEqual(['a', 'two', 'one', 'b', 'three']);
  });

  it('ignores invalid payloads and requests of other clients of the same kernel', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const kernel = new FakeKernel('client-1');
    const panel = new FakePanel(['a'], kernel);
    const handler = new InsertCellHandler(panel);
    for (const data of [{}, { code: 7 }, { code: 'x'.repeat(MAX_CODE_LENGTH + 1) }, 'text', null]) {
      kernel.open(data);
    }
    expect(warn).toHaveBeenCalledTimes(5);
    kernel.open({ code: CODE }, { msg_id: 'm', msg_type: 'execute_request', session: 'another-client' });
    expect(panel.sources).toEqual(['a']);
    panel.content.model = null;
    expect(() => kernel.open({ code: CODE })).not.toThrow();
    expect(handler.handleOpen({ content: { data: { code: CODE } }, parent_header: {} } as any)).toBe(-1);
  });

  it('never lets an error escape into the kernel connection', () => {
    const error = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const kernel = new FakeKernel('client-1');
    const panel = new FakePanel(['a'], kernel);
    new InsertCellHandler(panel);
    panel.content.model!.sharedModel.insertCell = () => {
      throw new Error('read-only');
    };
    expect(() => kernel.open({ code: CODE })).not.toThrow();
    expect(error).toHaveBeenCalledOnce();
  });

  it('follows kernel changes and restarts, and lets go on dispose', () => {
    const first = new FakeKernel('client-1');
    const panel = new FakePanel(['a'], null);
    const handler = new InsertCellHandler(panel);
    expect(handler.kernel).toBeNull();
    panel.changeKernel(first);
    expect(first.targets.has(INSERT_CELL_TARGET)).toBe(true);
    // a restart keeps the connection (and its targets); a new kernel gets a new connection
    const second = new FakeKernel('client-2');
    panel.changeKernel(second);
    expect(first.targets.has(INSERT_CELL_TARGET)).toBe(false);
    expect(second.targets.has(INSERT_CELL_TARGET)).toBe(true);
    second.open({ code: CODE }, { session: 'client-2', msg_type: 'comm_msg', msg_id: 'x' });
    expect(panel.sources).toEqual(['a', CODE]);
    panel.changeKernel(null);
    expect(second.targets.size).toBe(0);
    panel.changeKernel(second);
    panel.isDisposed = true;
    panel.disposed.emit();
    expect(handler.isDisposed).toBe(true);
    expect(second.targets.size).toBe(0);
    panel.changeKernel(first);
    expect(first.targets.size).toBe(0);
  });
});

describe('watchNotebooks and the plugin', () => {
  it('handles the notebooks open now and those opened later', () => {
    const early = new FakePanel(['a'], new FakeKernel('early'));
    const widgetAdded = new Signal<object, IPanelLike>({});
    watchNotebooks({ widgetAdded, forEach: callback => callback(early) });
    const late = new FakePanel(['b'], new FakeKernel('late'));
    widgetAdded.emit(late);
    (early.sessionContext.session!.kernel as FakeKernel).open({ code: 'one' });
    (late.sessionContext.session!.kernel as FakeKernel).open({ code: 'two' });
    expect(early.sources).toEqual(['a', 'one']);
    expect(late.sources).toEqual(['b', 'two']);
  });

  it('is an auto-started plugin that requires the notebook tracker', () => {
    expect(plugin.id).toBe('kfp-nbsecrets:insert-cell');
    expect(plugin.autoStart).toBe(true);
    expect(plugin.requires).toEqual([INotebookTracker]);
    const panel = new FakePanel(['a'], new FakeKernel('client-1'));
    const widgetAdded = new Signal<object, IPanelLike>({});
    plugin.activate({} as any, { widgetAdded, forEach: () => undefined });
    widgetAdded.emit(panel);
    (panel.sessionContext.session!.kernel as FakeKernel).open({ code: CODE });
    expect(panel.sources).toEqual(['a', CODE]);
  });
});
