/**
 * Graph layout of the pipeline with ELK (elkjs, layered algorithm): container tasks are nodes,
 * DAG tasks (sub-pipelines, loops, conditions, exit handlers) are compound nodes holding their
 * children. ELK runs in a web worker (elk.ts), no network.
 */
import type { ElkExtendedEdge, ElkNode, ElkPoint } from 'elkjs/lib/elk-api';

import { EngineKind, elkLayout } from './elk';
import { IPayload, ITask, LEAF_KINDS } from './types';

export const NODE_WIDTH = 220;
export const NODE_HEADER = 44;
export const BADGE_ROW = 20;
export const BADGES_PER_ROW = 1;
export const GROUP_HEADER = 28;

export interface IBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface ILayout {
  width: number;
  height: number;
  boxes: Map<string, IBox>;
  edges: { from: string; to: string; points: ElkPoint[] }[];
  /** Where ELK ran: in a web worker, or in the page. */
  engine: EngineKind;
}

/** The tasks drawn as groups: DAG kinds, and any task that has children. */
export function groupPaths(payload: IPayload): Set<string> {
  const groups = new Set<string>();
  for (const task of payload.tasks) {
    if (!LEAF_KINDS.has(task.kind)) {
      groups.add(task.path);
    }
  }
  for (const task of payload.tasks) {
    if (task.parent) {
      groups.add(task.parent);
    }
  }
  return groups;
}

/** How many badges a task shows: one per secret binding (env, volume, image pull). */
export function badgeCount(payload: IPayload): Map<string, number> {
  const counts = new Map<string, number>();
  for (const binding of payload.bindings) {
    counts.set(binding.task, (counts.get(binding.task) ?? 0) + 1);
  }
  return counts;
}

export function nodeHeight(badges: number): number {
  return NODE_HEADER + Math.ceil(badges / BADGES_PER_ROW) * BADGE_ROW + (badges ? 4 : 0);
}

const COMMON = {
  'elk.algorithm': 'layered',
  'elk.direction': 'DOWN',
  'elk.spacing.nodeNode': '16',
  'elk.layered.spacing.nodeNodeBetweenLayers': '28',
  'elk.spacing.componentComponent': '20',
  'elk.edgeRouting': 'ORTHOGONAL',
  'elk.layered.considerModelOrder.strategy': 'NODES_AND_EDGES'
};

/** Lays the pipeline out; tasks whose parent is unknown are placed at the root. */
export async function layoutPayload(payload: IPayload): Promise<ILayout> {
  const groups = groupPaths(payload);
  const badges = badgeCount(payload);
  const known = new Map<string, ITask>();
  for (const task of payload.tasks) {
    if (!known.has(task.path)) {
      known.set(task.path, task);
    }
  }
  const root: ElkNode = {
    id: '\u0000root',
    layoutOptions: { ...COMMON, 'elk.json.edgeCoords': 'ROOT', 'elk.json.shapeCoords': 'ROOT', 'elk.padding': '[top=8,left=8,bottom=8,right=8]' },
    children: [],
    edges: []
  };
  const nodes = new Map<string, ElkNode>();
  for (const [path, task] of known) {
    const node: ElkNode = groups.has(path)
      ? {
          id: path,
          children: [],
          edges: [],
          layoutOptions: {
            ...COMMON,
            'elk.padding': `[top=${GROUP_HEADER + 6},left=10,bottom=10,right=10]`,
            'elk.nodeSize.constraints': 'MINIMUM_SIZE',
            'elk.nodeSize.minimum': `(${Math.min(260, 60 + 7 * task.name.length)}, ${GROUP_HEADER + 24})`
          }
        }
      : { id: path, width: NODE_WIDTH, height: nodeHeight(badges.get(path) ?? 0) };
    nodes.set(path, node);
  }
  for (const [path, task] of known) {
    const parent = task.parent && task.parent !== path ? nodes.get(task.parent) : undefined;
    (parent ?? root).children!.push(nodes.get(path)!);
  }
  payload.edges.forEach((edge, index) => {
    const from = known.get(edge.from);
    const to = known.get(edge.to);
    if (!from || !to || from.path === to.path) {
      return;
    }
    // Edges join tasks of one DAG: they live in that DAG's node.
    const owner = from.parent === to.parent ? (to.parent ? nodes.get(to.parent) : root) : undefined;
    if (!owner) {
      return;
    }
    const elkEdge: ElkExtendedEdge = { id: `\u0000e${index}`, sources: [from.path], targets: [to.path] };
    owner.edges!.push(elkEdge);
  });
  // A DAG without dependencies inside is packed in rows (ELK box): much faster than the
  // layered algorithm's packing of a thousand one-node components, and as readable.
  // The box algorithm places the larger boxes first unless told otherwise: a priority keeps the
  // model order (If, Elif, Else; tasks by name).
  const pack = (node: ElkNode) => {
    if (node.children?.length && !node.edges?.length) {
      node.layoutOptions = { ...node.layoutOptions, 'elk.algorithm': 'box', 'elk.aspectRatio': '2.2' };
      node.children.forEach((child, index) => {
        child.layoutOptions = { ...child.layoutOptions, 'elk.priority': String(node.children!.length - index) };
      });
    }
    node.children?.forEach(pack);
  };
  pack(root);
  const { result, engine } = await elkLayout(root);
  const boxes = new Map<string, IBox>();
  for (const [id, x, y, width, height] of result.boxes) {
    boxes.set(id, { x, y, width, height });
  }
  const edges = result.edges.map(([from, to, xy]) => {
    const points: ElkPoint[] = [];
    for (let i = 0; i + 1 < xy.length; i += 2) {
      points.push({ x: xy[i], y: xy[i + 1] });
    }
    return { from, to, points };
  });
  return { width: result.width, height: result.height, boxes, edges, engine };
}
