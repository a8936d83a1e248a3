/**
 * The Graph tab: the laid-out DAG. Groups (sub-pipelines, loops, conditions, exit handlers) are
 * labelled boxes holding their tasks, tasks carry their secret badges and finding markers,
 * dependencies are SVG arrows with their heads drawn inline (no marker ids shared between views).
 *
 * The DOM is built in slices of a few milliseconds, top to bottom, so a large pipeline keeps the
 * page responsive; the DOM order (and so the Tab order) follows the layout.
 */
import { IContext, keepKeys, Maker, P, svgEl } from './dom';
import { marker, worstSeverity } from './findings';
import { GROUP_HEADER, groupPaths, IBox, ILayout } from './layout';
import { badge } from './secrets';
import { ITask } from './types';

const GROUP_LABEL: Record<string, string> = {
  pipeline: 'sub-pipeline',
  'for-loop': 'loop',
  condition: 'if',
  'condition-branches': 'if / else',
  'exit-handler': 'exit handler'
};

/**
 * Tasks per tile (with the edges into them): a few milliseconds of DOM building between two
 * yields; and the largest extent of a tile's boxes, so the browser skips what is out of sight.
 */
const NODES_PER_TILE = 25;
const TILE_EXTENT = 1200;
const ARROW_LENGTH = 8;
const ARROW_HALF_WIDTH = 4;

/** Resolves in a new task of the event loop (no 4 ms clamping as setTimeout nests). */
function nextTask(): Promise<void> {
  return new Promise(resolve => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}

/** ``a`` with ``b`` after it: the count and the noun, plural unless one. */
export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function conditionNumber(task: ITask): number {
  const match = /(\d+)$/.exec(task.name);
  return match ? Number(match[1]) : 0;
}

/** The predicate with channel placeholders read as ``task.output`` or the parameter name. */
export function readablePredicate(expression: string, taskNames: Set<string>): string {
  return expression.replace(/inputs\.parameter_values\['pipelinechannel--([^']*)'\]/g, (_, channel: string) => {
    for (let cut = channel.lastIndexOf('-'); cut > 0; cut = channel.lastIndexOf('-', cut - 1)) {
      if (taskNames.has(channel.slice(0, cut))) {
        return `${channel.slice(0, cut)}.${channel.slice(cut + 1)}`;
      }
    }
    return channel;
  });
}

/**
 * A condition's branch (``If``, ``Elif`` or ``Else``) and its own predicate. In a group of
 * branches KFP writes each one's predicate after the negations of the branches before it
 * (``!(a) && b``; an Else has only the negations).
 */
export function conditionLabel(task: ITask, ctx: IContext): { branch: string; predicate: string } {
  const expression = task.condition ?? '';
  const parent = ctx.byPath.get(task.parent);
  if (parent?.kind !== 'condition-branches') {
    return { branch: 'If', predicate: expression };
  }
  const branches = ctx.payload.tasks
    .filter(t => t.parent === task.parent && t.kind === 'condition')
    .sort((a, b) => conditionNumber(a) - conditionNumber(b));
  const own: string[] = [];
  for (const branch of branches) {
    const full = branch.condition ?? '';
    const negations = own.map(predicate => `!(${predicate})`).join(' && ');
    const mine = !own.length ? full : full.startsWith(`${negations} && `) ? full.slice(negations.length + 4) : null;
    if (branch === task) {
      if (!own.length) {
        return { branch: 'If', predicate: full };
      }
      if (full === negations) {
        return { branch: 'Else', predicate: '' };
      }
      return { branch: 'Elif', predicate: mine ?? full };
    }
    if (mine === null) {
      break;
    }
    own.push(mine);
  }
  return { branch: 'Elif', predicate: expression };
}

function taskLabel(task: ITask): string {
  return `${task.name}, ${GROUP_LABEL[task.kind] ?? task.kind}`;
}

export function legend(el: Maker): HTMLElement {
  const box = el('div', `${P}-legend`);
  box.append(
    el('span', `${P}-muted`, 'Secrets: '),
    el('span', `${P}-badge-kind ${P}-legend-env`, 'env'),
    el('span', `${P}-muted`, ' env vars '),
    el('span', `${P}-badge-kind ${P}-legend-volume`, 'vol'),
    el('span', `${P}-muted`, ' volume '),
    el('span', `${P}-badge-kind ${P}-legend-image-pull`, 'pull'),
    el(
      'span',
      `${P}-muted`,
      ' image pull, then the secret name: literal, {{parameter}}, {{task.output}} or item of a loop. ' +
        'Click or press Enter on a task for details.'
    )
  );
  return box;
}

/** What the graph area shows while ELK lays the pipeline out. */
export function skeleton(ctx: IContext, tasks: number, groups: number): HTMLElement {
  const box = ctx.el('div', `${P}-skeleton`);
  box.setAttribute('role', 'status');
  box.append(ctx.el('span', `${P}-muted`, `Laying out ${plural(tasks, 'task')} and ${plural(groups, 'group')}\u2026`));
  return box;
}

function position(element: HTMLElement, box: IBox) {
  element.style.left = `${box.x}px`;
  element.style.top = `${box.y}px`;
  element.style.width = `${box.width}px`;
  element.style.height = `${box.height}px`;
}

/** A group's box and its focusable label. */
function groupElement(ctx: IContext, task: ITask): { outer: HTMLElement; focusable: HTMLElement } {
  const { el } = ctx;
  const group = el('div', `${P}-group ${P}-group--${task.kind}`);
  const label = el('div', `${P}-group-label`);
  label.style.height = `${GROUP_HEADER}px`;
  let aria = `${taskLabel(task)} (group)`;
  if (task.kind === 'condition') {
    const { branch, predicate } = conditionLabel(task, ctx);
    const text = readablePredicate(predicate, ctx.taskNames);
    label.append(el('span', `${P}-group-kind`, branch));
    const shown = text ? el('code', `${P}-group-name ${P}-predicate`, text) : el('span', `${P}-group-name`, task.name);
    shown.title = `${task.name}: ${task.condition ?? ''}`;
    label.append(shown);
    aria = `${branch} ${text}, ${task.name} (condition group)`;
  } else {
    label.append(el('span', `${P}-group-kind`, GROUP_LABEL[task.kind] ?? task.kind), el('span', `${P}-group-name`, task.name));
  }
  group.append(label);
  group.dataset.path = task.path;
  label.setAttribute('aria-label', aria);
  return { outer: group, focusable: label };
}

/** A task's box: name, image, badges. */
function taskElement(ctx: IContext, task: ITask, findings: number): HTMLElement {
  const { el } = ctx;
  const node = el('div', `${P}-task ${P}-task--${task.kind}`);
  const title = el('div', `${P}-task-title`);
  const name = el('span', `${P}-task-name`, task.name);
  name.title = task.path;
  title.append(name);
  node.append(title, el('div', `${P}-task-sub`, task.image ?? task.component ?? task.kind));
  const bindings = ctx.bindings.get(task.path) ?? [];
  if (bindings.length) {
    const badges = el('div', `${P}-badges`);
    for (const binding of bindings) {
      badges.append(badge(ctx, binding));
    }
    node.append(badges);
  }
  node.dataset.path = task.path;
  const secrets = bindings.length ? `, ${plural(bindings.length, 'secret')}` : '';
  const issues = findings ? `, ${plural(findings, 'finding')}` : '';
  node.setAttribute('aria-label', `${taskLabel(task)}${secrets}${issues}`);
  return node;
}

interface IPlaced {
  task: ITask;
  box: IBox;
}

/**
 * The tasks in reading order: in each DAG, top to bottom and left to right within a row (ELK
 * aligns the tops of a layer's boxes); a group's tasks right after the group.
 */
export function readingOrder(placed: IPlaced[]): IPlaced[] {
  const paths = new Set(placed.map(entry => entry.task.path));
  const children = new Map<string, IPlaced[]>();
  for (const entry of placed) {
    const parent = paths.has(entry.task.parent) && entry.task.parent !== entry.task.path ? entry.task.parent : '';
    const list = children.get(parent) ?? [];
    list.push(entry);
    children.set(parent, list);
  }
  const ordered: IPlaced[] = [];
  const visit = (parent: string) => {
    const siblings = (children.get(parent) ?? []).sort((a, b) =>
      Math.abs(a.box.y - b.box.y) > 1 ? a.box.y - b.box.y : a.box.x - b.box.x
    );
    for (const entry of siblings) {
      ordered.push(entry);
      if (entry.task.path !== parent) {
        visit(entry.task.path);
      }
    }
  };
  visit('');
  return ordered;
}

/** An edge and its arrowhead, drawn inline at the end of its last segment. */
function edgeElements(doc: Document, edge: ILayout['edges'][number]): SVGElement[] {
  const points = edge.points;
  const end = points[points.length - 1];
  const before = points[points.length - 2] ?? end;
  const length = Math.hypot(end.x - before.x, end.y - before.y) || 1;
  const [ux, uy] = [(end.x - before.x) / length, (end.y - before.y) / length];
  const base = { x: end.x - ux * ARROW_LENGTH, y: end.y - uy * ARROW_LENGTH };
  const line = [...points.slice(0, -1), base];
  const d = line.map((p, i) => `${i ? 'L' : 'M'} ${p.x} ${p.y}`).join(' ');
  const path = svgEl(doc, 'path', { d, class: `${P}-edge` });
  const [nx, ny] = [-uy * ARROW_HALF_WIDTH, ux * ARROW_HALF_WIDTH];
  const head = svgEl(doc, 'path', {
    d: `M ${end.x} ${end.y} L ${base.x + nx} ${base.y + ny} L ${base.x - nx} ${base.y - ny} Z`,
    class: `${P}-arrowhead`
  });
  for (const element of [path, head]) {
    element.dataset.from = edge.from;
    element.dataset.to = edge.to;
  }
  return [path, head];
}

/** Room around a tile's content for focus outlines and shadows, which its containment clips. */
const TILE_MARGIN = 6;

/** A task's or group's element (at ``box``) and its incoming edges (within ``extent``). */
interface IDrawn {
  node: HTMLElement;
  box: IBox;
  edges: SVGElement[];
  extent: IBox;
}

/**
 * Draws ``layout`` into ``canvas`` in slices, yielding to the browser between them; stops (and
 * returns false) as soon as ``current()`` is false. Each slice is a tile: a box around what it
 * holds, contained and skipped by the browser while out of sight (``content-visibility: auto``),
 * so a slice added later costs the browser that slice only. Records each task's focusable element
 * in ``elements``; ``open(path)`` runs when a task or group label is clicked or activated by the keyboard.
 */
export async function drawGraph(
  ctx: IContext,
  layout: ILayout,
  canvas: HTMLElement,
  elements: Map<string, HTMLElement>,
  open: (path: string) => void,
  current: () => boolean
): Promise<boolean> {
  const { doc, el } = ctx;
  // a task of its own for the drawing: receiving the layout took one already
  await nextTask();
  if (!current()) {
    return false;
  }
  const groups = groupPaths(ctx.payload);
  const placed = readingOrder(
    [...ctx.byPath.values()]
      .map(task => ({ task, box: layout.boxes.get(task.path) }))
      .filter((entry): entry is IPlaced => entry.box !== undefined)
  );
  const incoming = new Map<string, ILayout['edges']>();
  for (const edge of layout.edges) {
    incoming.set(edge.to, [...(incoming.get(edge.to) ?? []), edge]);
  }
  const steps: (() => IDrawn)[][] = tiles(placed).map(slice =>
    slice.map(({ task, box }) => () => {
      const findings = ctx.findings.get(task.path) ?? [];
      const { outer, focusable } = groups.has(task.path)
        ? groupElement(ctx, task)
        : { outer: taskElement(ctx, task, findings.length), focusable: undefined };
      const target = focusable ?? outer;
      if (findings.length) {
        (focusable ? focusable : outer.querySelector(`.${P}-task-title`)!).append(marker(ctx, findings));
        outer.classList.add(`${P}-has-${worstSeverity(findings)}`);
      }
      makeFocusable(target, task.path, open);
      elements.set(task.path, target);
      // the edges into a task are drawn with it: a tile's edges stay near its boxes
      const edges = incoming.get(task.path) ?? [];
      const xs = [box.x, box.x + box.width, ...edges.flatMap(e => e.points.map(p => p.x))];
      const ys = [box.y, box.y + box.height, ...edges.flatMap(e => e.points.map(p => p.y))];
      const [x, y] = [Math.min(...xs), Math.min(...ys)];
      const extent = { x, y, width: Math.max(...xs) - x, height: Math.max(...ys) - y };
      return { node: outer, box, edges: edges.flatMap(edge => edgeElements(doc, edge)), extent };
    })
  );

  canvas.replaceChildren();
  canvas.style.width = `${Math.ceil(layout.width)}px`;
  canvas.style.height = `${Math.ceil(layout.height)}px`;
  for (const [index, slice] of steps.entries()) {
    canvas.append(tile(doc, el, slice.map(step => step())));
    if (index < steps.length - 1) {
      await nextTask();
      if (!current()) {
        return false;
      }
    }
  }
  return true;
}

/**
 * The tasks cut into tiles, in reading order: a tile ends at ``NODES_PER_TILE`` tasks or when one
 * more box would stretch it beyond ``TILE_EXTENT`` (a wide row of a packed DAG becomes several tiles).
 */
function tiles(placed: IPlaced[]): IPlaced[][] {
  const out: IPlaced[][] = [];
  let current: IPlaced[] = [];
  let [x0, y0, x1, y1] = [0, 0, 0, 0];
  for (const entry of placed) {
    const { x, y, width, height } = entry.box;
    const grown = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x + width), Math.max(y1, y + height)];
    const full = current.length >= NODES_PER_TILE || grown[2] - grown[0] > TILE_EXTENT || grown[3] - grown[1] > TILE_EXTENT;
    if (!current.length || full) {
      if (current.length) {
        out.push(current);
      }
      current = [];
      [x0, y0, x1, y1] = [x, y, x + width, y + height];
    } else {
      [x0, y0, x1, y1] = grown;
    }
    current.push(entry);
  }
  if (current.length) {
    out.push(current);
  }
  return out;
}

/** A tile holding ``slice``: placed around it, its nodes and edges placed inside it. */
function tile(doc: Document, el: Maker, slice: IDrawn[]): HTMLElement {
  const x0 = Math.min(...slice.map(d => d.extent.x)) - TILE_MARGIN;
  const y0 = Math.min(...slice.map(d => d.extent.y)) - TILE_MARGIN;
  const x1 = Math.max(...slice.map(d => d.extent.x + d.extent.width)) + TILE_MARGIN;
  const y1 = Math.max(...slice.map(d => d.extent.y + d.extent.height)) + TILE_MARGIN;
  const box = { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
  const element = el('div', `${P}-tile`);
  position(element, box);
  const edges = slice.flatMap(d => d.edges);
  if (edges.length) {
    const svg = svgEl(doc, 'svg', {
      class: `${P}-edges`,
      width: String(box.width),
      height: String(box.height),
      viewBox: `${x0} ${y0} ${box.width} ${box.height}`,
      'aria-hidden': 'true'
    });
    svg.append(...edges);
    element.append(svg);
  }
  for (const drawn of slice) {
    position(drawn.node, { ...drawn.box, x: drawn.box.x - x0, y: drawn.box.y - y0 });
    element.append(drawn.node);
  }
  return element;
}

function makeFocusable(element: HTMLElement, path: string, open: (path: string) => void): void {
  element.classList.add(`${P}-focusable`);
  element.tabIndex = 0;
  keepKeys(element);
  element.setAttribute('role', 'button');
  element.setAttribute('aria-pressed', 'false');
  element.addEventListener('click', () => open(path));
  element.addEventListener('keydown', (event: KeyboardEvent) => {
    if (event.key === 'Enter' || event.key === ' ' || event.key === 'Spacebar') {
      event.preventDefault();
      open(path);
    }
  });
}
