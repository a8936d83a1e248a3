/**
 * ELK, the layout engine, off the main thread: elkjs's web worker build (elk-worker.min.js) runs
 * in a Worker made from a Blob URL of its source (a federated JupyterLab extension has no URL of
 * its own for a worker script; the source is a lazily loaded chunk). Where no worker can be made
 * (no Worker, a Content-Security-Policy without blob: workers, a failing worker), ELK runs in the
 * page (elk.bundled.js, also loaded on first use). One worker serves every render of the page.
 */
import type { ElkNode } from 'elkjs/lib/elk-api';

export type EngineKind = 'worker' | 'page';

/** A layout in short: the size, each node's box, each edge's points (x, y, x, y...). */
export interface ICompactLayout {
  width: number;
  height: number;
  boxes: [id: string, x: number, y: number, width: number, height: number][];
  edges: [from: string, to: string, xy: number[]][];
}

interface IEngine {
  kind: EngineKind;
  layout(graph: ElkNode): Promise<ICompactLayout>;
}

/**
 * The laid-out ELK graph in short (with root coordinates). Self-contained: its source also runs in
 * the worker, which so sends a short string instead of the whole graph (cheaper to receive).
 */
export function compactLayout(graph: ElkNode): ICompactLayout {
  const out: ICompactLayout = { width: graph.width || 0, height: graph.height || 0, boxes: [], edges: [] };
  const visit = (node: ElkNode) => {
    for (const child of node.children || []) {
      out.boxes.push([child.id, child.x || 0, child.y || 0, child.width || 0, child.height || 0]);
      visit(child);
    }
    for (const edge of (node.edges || []) as any[]) {
      for (const section of edge.sections || []) {
        const points = [section.startPoint, ...(section.bendPoints || []), section.endPoint];
        out.edges.push([edge.sources[0], edge.targets[0], points.flatMap((p: any) => [p.x, p.y])]);
      }
    }
  };
  visit(graph);
  return out;
}

/** Runs first in the worker: a layout's answer is sent as the JSON of its compact form. */
const WORKER_PRELUDE = `const compactLayout = ${compactLayout.toString()};
const post = self.postMessage.bind(self);
self.postMessage = message => post(message && message.data && !Array.isArray(message.data) && message.data.children
  ? { id: message.id, data: JSON.stringify(compactLayout(message.data)) } : message);
`;

/** How long a new worker may take to load ELK and answer (then ELK runs in the page). */
const WORKER_START_MS = 20000;

/** The worker failed (not the layout): the caller falls back to ELK in the page. */
class WorkerFailure extends Error {}

/** elk-worker.min.js's protocol: {id, cmd, ...} in; {id, data} or {id, error} out. */
class WorkerClient {
  constructor(private worker: Worker) {
    worker.onmessage = (event: MessageEvent) => {
      const { id, data, error } = (event.data ?? {}) as { id: number; data?: unknown; error?: unknown };
      const pending = this.pending.get(id);
      if (!pending) {
        return;
      }
      this.pending.delete(id);
      if (error !== undefined) {
        pending.reject(error instanceof Error ? error : new Error(String((error as any)?.message ?? error)));
      } else {
        pending.resolve(data);
      }
    };
    worker.onerror = (event: ErrorEvent) => this.fail(`the ELK worker failed: ${event.message || 'error'}`);
    worker.onmessageerror = () => this.fail('the ELK worker sent an unreadable message');
  }

  call(message: Record<string, unknown>, timeoutMs?: number): Promise<any> {
    if (this.failure) {
      return Promise.reject(new WorkerFailure(this.failure));
    }
    const id = this.next++;
    return new Promise((resolve, reject) => {
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(() => this.fail(`the ELK worker did not answer in ${timeoutMs} ms`), timeoutMs);
      const done = (settle: (value: any) => void) => (value: any) => {
        clearTimeout(timer);
        settle(value);
      };
      this.pending.set(id, { resolve: done(resolve), reject: done(reject) });
      this.worker.postMessage({ ...message, id });
    });
  }

  private fail(reason: string): void {
    this.failure = reason;
    this.worker.terminate();
    for (const pending of this.pending.values()) {
      pending.reject(new WorkerFailure(reason));
    }
    this.pending.clear();
  }

  private next = 0;
  private failure: string | null = null;
  private pending = new Map<number, { resolve: (value: any) => void; reject: (error: any) => void }>();
}

async function startWorker(): Promise<IEngine> {
  if (typeof Worker === 'undefined' || typeof URL.createObjectURL !== 'function') {
    throw new WorkerFailure('no Web Workers here');
  }
  const { default: source } = await import('elkjs/lib/elk-worker.min.js?raw');
  const url = URL.createObjectURL(new Blob([WORKER_PRELUDE, source], { type: 'text/javascript' }));
  let client: WorkerClient;
  try {
    client = new WorkerClient(new Worker(url));
  } finally {
    // the worker has fetched (or failed to fetch) its script: the URL is no longer needed
    setTimeout(() => URL.revokeObjectURL(url), WORKER_START_MS);
  }
  await client.call({ cmd: 'register', algorithms: ['layered'] }, WORKER_START_MS);
  return {
    kind: 'worker',
    layout: async graph => JSON.parse(await client.call({ cmd: 'layout', graph, layoutOptions: {}, options: {} }))
  };
}

async function startInPage(): Promise<IEngine> {
  const module = await import('elkjs/lib/elk.bundled.js');
  const elk = new module.default();
  return { kind: 'page', layout: async graph => compactLayout(await elk.layout(graph)) };
}

let worker: Promise<IEngine> | null = null;
let page: Promise<IEngine> | null = null;

/** Lays ``graph`` out with ELK, in the worker when there can be one; says where it ran. */
export async function elkLayout(graph: ElkNode): Promise<{ result: ICompactLayout; engine: EngineKind }> {
  if (!worker) {
    worker = startWorker().catch(error => {
      throw error instanceof WorkerFailure ? error : new WorkerFailure(String(error));
    });
  }
  try {
    const engine = await worker;
    return { result: await engine.layout(graph), engine: engine.kind };
  } catch (error) {
    if (!(error instanceof WorkerFailure)) {
      throw error;
    }
    worker = Promise.reject(error);
    worker.catch(() => undefined);
  }
  if (!page) {
    page = startInPage();
  }
  const engine = await page;
  return { result: await engine.layout(graph), engine: engine.kind };
}
