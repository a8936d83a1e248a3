/**
 * The JSON payload of the MIME type, version 1 (see kfp_nbsecrets/display.py, ``payload()``).
 *
 * Every field is read defensively: a payload from another version of the Python package may
 * lack fields or carry extra ones (``platformSpec`` and ``ir`` are optional extensions).
 */

export const MIME_TYPE = 'application/vnd.kfp-nbsecrets.pipeline-ir.v1+json';

export interface IParameter {
  name: string;
  type?: string;
  default?: unknown;
}

export interface ITask {
  path: string;
  name: string;
  kind: string;
  parent: string;
  component?: string;
  executor?: string | null;
  dependsOn?: string[];
  caching?: boolean;
  image?: string | null;
  command?: string[];
}

export interface IEdge {
  from: string;
  to: string;
}

export interface ISource {
  kind: string;
  text?: string;
  name?: string;
  parameter?: string;
  default?: unknown;
  task?: string;
  output?: string;
  problem?: string;
  items?: ISource;
  via?: string[];
}

export interface IBinding {
  task: string;
  kind: string;
  reference?: string;
  source?: ISource;
  optional?: boolean;
  env?: { secretKey: string; envVar: string }[];
  mountPath?: string | null;
}

export interface IFinding {
  severity: string;
  code?: string;
  task?: string;
  message?: string;
  fix?: string;
}

export interface IPayload {
  version: number;
  pipeline: { name: string; parameters: IParameter[] };
  tasks: ITask[];
  edges: IEdge[];
  bindings: IBinding[];
  findings: IFinding[];
  /** Optional: the Kubernetes platform spec (``platforms.kubernetes``) of the compiled IR. */
  platformSpec?: unknown;
  /** Optional: the full compiled IR (its YAML documents, as JSON values). */
  ir?: unknown;
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
  const tasks = asArray<Record<string, any>>(raw.tasks)
    .filter(t => t && typeof t === 'object')
    .map(t => ({
      ...t,
      path: asString(t.path, asString(t.name)),
      name: asString(t.name, asString(t.path)),
      kind: asString(t.kind, 'container'),
      parent: asString(t.parent),
      dependsOn: asArray<unknown>(t.dependsOn).map(d => asString(d)),
      command: asArray<unknown>(t.command).map(c => asString(c))
    })) as ITask[];
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
    findings: asArray<IFinding>(raw.findings).filter(f => f && typeof f === 'object')
  } as IPayload;
}
