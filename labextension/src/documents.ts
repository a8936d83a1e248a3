/**
 * The compiled IR carried by the payload (``irGzip``: base64 of gzip of its documents as JSON),
 * read in the browser: the tasks' commands, the Kubernetes platform spec tab and the IR tab.
 */
import { dump } from 'js-yaml';

import { IContext, P, show } from './dom';
import { IPayload, ITask } from './types';

/** The IR's documents: the pipeline spec, then the platform spec when it has one. */
export type IDocuments = Record<string, any>[];

/** The IR as read from the payload: its JSON text, its documents once parsed, or none. */
export type IrSource = string | IDocuments | null;

/**
 * The payload's IR, decompressed (off the main thread) but not yet parsed; the documents of a
 * payload of an earlier version; null when it carries none. Rejects when ``irGzip`` is unreadable.
 */
export async function readIr(payload: IPayload): Promise<IrSource> {
  if (typeof payload.irGzip === 'string') {
    const bytes = Uint8Array.from(atob(payload.irGzip), c => c.charCodeAt(0));
    return new Response(new Response(bytes).body!.pipeThrough(new DecompressionStream('gzip'))).text();
  }
  return Array.isArray(payload.ir) ? (payload.ir as IDocuments) : null;
}

/** The IR's documents, parsed on first use (a 1000-task IR takes tens of milliseconds). */
export function documentsOf(ctx: IContext): IDocuments | null {
  if (typeof ctx.ir === 'string') {
    try {
      const documents = JSON.parse(ctx.ir);
      if (!Array.isArray(documents)) {
        throw new Error('it holds no list of documents');
      }
      ctx.ir = documents;
    } catch (error) {
      ctx.ir = null;
      ctx.irError = `The compiled IR (field "irGzip") cannot be read: ${String(error)}`;
    }
  }
  return ctx.ir;
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.map(show) : [];
}

/** The task's container command then args, from its executor in the IR's deployment spec. */
export function commandOf(ctx: IContext, task: ITask): string[] {
  const executors = documentsOf(ctx)?.[0]?.deploymentSpec?.executors;
  const container = task.executor && executors ? executors[task.executor]?.container : undefined;
  return container ? [...strings(container.command), ...strings(container.args)] : [];
}

export function toYaml(value: unknown): string {
  try {
    return dump(value, { noRefs: true, lineWidth: 120, skipInvalid: true });
  } catch (error) {
    return `# cannot show as YAML: ${String(error)}\n${show(value)}`;
  }
}

/** Fills ``panel`` with the IR's platform spec; without the IR, the secret entries by task. */
export function fillPlatformSpec(ctx: IContext, panel: HTMLElement): void {
  const { el } = ctx;
  const documents = documentsOf(ctx);
  if (documents) {
    panel.append(
      documents.length > 1
        ? el('pre', `${P}-yaml`, toYaml(documents[1]))
        : el('p', `${P}-muted`, 'The compiled pipeline has no platform spec: no task has Kubernetes settings.')
    );
    return;
  }
  panel.append(
    el('p', `${P}-muted`, `${ctx.irError ?? 'This payload carries no compiled IR'}; the secret entries it holds, by task:`),
    el('pre', `${P}-yaml`, toYaml(Object.fromEntries(ctx.bindings)))
  );
}

/** Fills ``panel`` with the compiled IR as YAML documents; without it, the payload itself. */
export function fillIr(ctx: IContext, panel: HTMLElement): void {
  const { el } = ctx;
  const documents = documentsOf(ctx);
  if (documents) {
    panel.append(el('pre', `${P}-yaml`, documents.map(toYaml).join('---\n')));
    return;
  }
  const { irGzip, ...rest } = ctx.payload;
  panel.append(
    el('p', `${P}-muted`, `${ctx.irError ?? 'This payload carries no compiled IR'}; the payload itself:`),
    el('pre', `${P}-yaml`, toYaml(irGzip === undefined ? rest : { ...rest, irGzip: '(unreadable)' }))
  );
}
