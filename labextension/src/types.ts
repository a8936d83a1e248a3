/**
 * The JSON payload of the MIME type, version 1, as the renderer reads it. Its shape is the JSON
 * Schema kfp_nbsecrets/schemas/pipeline-ir.v1.schema.json, whose types are generated into
 * payload.ts; ``normalize`` reads any data defensively into that shape (a payload from another
 * version of the Python package may lack fields or carry extra ones).
 */
import { Binding, Edge, Finding, NameSource, Parameter, Payload, Task } from './payload';

export const MIME_TYPE = 'application/vnd.kfp-nbsecrets.pipeline-ir.v1+json';

export type IParameter = Parameter;
export type ITask = Task;
export type IEdge = Edge;
export type ISource = NameSource;
export type IBinding = Binding;
/** A finding on one task, as the renderer draws and lists it (``normalize`` expands the payload's). */
export interface IFinding extends Omit<Finding, 'tasks'> {
  task: string;
}

/**
 * A payload after ``normalize``: any version number; ``irGzip`` may be missing; one finding per task.
 * Payloads written by earlier versions of the package (saved in notebooks) carry the IR documents
 * uncompressed in ``ir``, and one finding per task (its path in ``task``).
 */
export interface IPayload extends Omit<Payload, 'version' | 'irGzip' | 'findings'> {
  version: number;
  irGzip?: string;
  ir?: unknown;
  findings: IFinding[];
}

/** Kinds of tasks that run one container; every other kind is a DAG drawn as a group. */
export const LEAF_KINDS = new Set(['container', 'importer']);

function asArray<T>(value: unknown): T[] {
  return Array.isArray(value) ? (value as T[]) : [];
}

function asString(value: unknown, fallback = ''): string {
  return typeof value === 'string' ? value : value === undefined || value === null ? fallback : String(value);
}

/** The payload with every list present and every task field a string, whatever arrived. */
export function normalize(data: unknown): IPayload {
  const raw = (data && typeof data === 'object' ? data : {}) as Record<string, any>;
  const pipeline = (raw.pipeline && typeof raw.pipeline === 'object' ? raw.pipeline : {}) as Record<string, any>;
  const optional = (value: unknown) => (typeof value === 'string' ? value : null);
  const tasks: ITask[] = asArray<Record<string, any>>(raw.tasks)
    .filter(t => t && typeof t === 'object')
    .map(t => ({
      ...t,
      path: asString(t.path, asString(t.name)),
      name: asString(t.name, asString(t.path)),
      kind: asString(t.kind, 'container') as ITask['kind'],
      parent: asString(t.parent),
      component: asString(t.component),
      executor: optional(t.executor),
      dependsOn: asArray<unknown>(t.dependsOn).map(d => asString(d)),
      caching: Boolean(t.caching),
      image: optional(t.image),
      ...(typeof t.condition === 'string' ? { condition: t.condition } : {})
    }));
  return {
    ...raw,
    version: typeof raw.version === 'number' ? raw.version : 1,
    pipeline: {
      name: asString(pipeline.name, 'pipeline'),
      parameters: asArray<IParameter>(pipeline.parameters).filter(p => p && typeof p === 'object')
    },
    tasks,
    edges: asArray<IEdge>(raw.edges).filter(e => e && typeof e === 'object'),
    bindings: asArray<IBinding>(raw.bindings).filter(b => b && typeof b === 'object'),
    findings: findingsPerTask(raw.findings, tasks)
  } as IPayload;
}

/** One finding per task of each payload finding, in the order of the tasks (as the lint found them). */
function findingsPerTask(findings: unknown, tasks: ITask[]): IFinding[] {
  const order = new Map(tasks.map((task, index) => [task.path, index]));
  return asArray<Record<string, any>>(findings)
    .filter(f => f && typeof f === 'object')
    .flatMap(({ tasks: paths, ...finding }) => {
      const concerned: unknown[] = Array.isArray(paths) ? paths : [finding.task];
      const onTask = (task: unknown) => ({ ...finding, task: asString(task) }) as IFinding;
      return (concerned.length ? concerned : ['']).map(onTask);
    })
    .sort((a, b) => (order.get(a.task) ?? tasks.length) - (order.get(b.task) ?? tasks.length));
}
