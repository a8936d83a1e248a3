/**
 * The Graph tab: the laid-out DAG. Groups (sub-pipelines, loops, conditions, exit handlers) are
 * labelled boxes holding their tasks, tasks carry their secret badges and finding markers,
 * dependencies are SVG arrows. Every task and group label is focusable and opens its details.
 */
import { IContext, Maker, P, svgEl } from './dom';
import { marker, worstSeverity } from './findings';
import { GROUP_HEADER, groupPaths, IBox, ILayout } from './layout';
import { badge } from './secrets';
import { ITask } from './types';

const GROUP_LABEL: Record<string, string> = {
  pipeline: 'sub-pipeline',
  'for-loop': 'loop',
  condition: 'condition',
  'condition-branches': 'branches',
  'exit-handler': 'exit handler'
};

function taskLabel(task: ITask): string {
  const kindLabel = GROUP_LABEL[task.kind] ?? task.kind;
  return `${task.name}, ${kindLabel}`;
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
    el('span', `${P}-muted`, ' image pull \u2014 name from a literal, param, output or loop item. Click or press Enter on a task for details.')
  );
  return box;
}

function position(element: HTMLElement, box: IBox) {
  element.style.left = `${box.x}px`;
  element.style.top = `${box.y}px`;
  element.style.width = `${box.width}px`;
  element.style.height = `${box.height}px`;
}

/**
 * Draws ``layout`` into ``canvas``; records each task's focusable element in ``elements``;
 * ``open(path)`` is called when a task or group label is clicked or activated by the keyboard.
 */
export function drawGraph(
  ctx: IContext,
  layout: ILayout,
  canvas: HTMLElement,
  elements: Map<string, HTMLElement>,
  open: (path: string) => void
) {
  const { doc, el } = ctx;
  canvas.style.width = `${Math.ceil(layout.width)}px`;
  canvas.style.height = `${Math.ceil(layout.height)}px`;
  const svg = svgEl(doc, 'svg', {
    class: `${P}-edges`,
    width: String(Math.ceil(layout.width)),
    height: String(Math.ceil(layout.height)),
    'aria-hidden': 'true'
  });
  const defs = svgEl(doc, 'defs', {});
  const arrow = svgEl(doc, 'marker', {
    id: `${P}-arrow`,
    viewBox: '0 0 10 10',
    refX: '9',
    refY: '5',
    markerWidth: '7',
    markerHeight: '7',
    orient: 'auto-start-reverse'
  });
  arrow.append(svgEl(doc, 'path', { d: 'M 0 0 L 10 5 L 0 10 z', class: `${P}-arrowhead` }));
  defs.append(arrow);
  svg.append(defs);
  for (const edge of layout.edges) {
    const d = edge.points.map((p, i) => `${i ? 'L' : 'M'} ${p.x} ${p.y}`).join(' ');
    const path = svgEl(doc, 'path', { d, class: `${P}-edge`, 'marker-end': `url(#${P}-arrow)` });
    path.dataset.from = edge.from;
    path.dataset.to = edge.to;
    svg.append(path);
  }
  canvas.append(svg);

  // Groups first (outer before inner: payload order sorts parents before children), then tasks.
  const fragment = doc.createDocumentFragment();
  const leaves: HTMLElement[] = [];
  const groups = groupPaths(ctx.payload);
  for (const task of ctx.byPath.values()) {
    const box = layout.boxes.get(task.path);
    if (!box) {
      continue;
    }
    const findings = ctx.findings.get(task.path) ?? [];
    const severity = findings.length ? worstSeverity(findings) : '';
    const isGroup = groups.has(task.path);
    let focusable: HTMLElement;
    if (isGroup) {
      const group = el('div', `${P}-group ${P}-group--${task.kind}`);
      position(group, box);
      const label = el('div', `${P}-group-label`);
      label.style.height = `${GROUP_HEADER}px`;
      label.append(el('span', `${P}-group-kind`, GROUP_LABEL[task.kind] ?? task.kind), el('span', `${P}-group-name`, task.name));
      if (findings.length) {
        label.append(marker(ctx, findings));
      }
      group.append(label);
      group.dataset.path = task.path;
      fragment.append(group);
      focusable = label;
      focusable.setAttribute('aria-label', `${taskLabel(task)} (group)`);
    } else {
      const node = el('div', `${P}-task ${P}-task--${task.kind}`);
      position(node, box);
      const title = el('div', `${P}-task-title`);
      const name = el('span', `${P}-task-name`, task.name);
      name.title = task.path;
      title.append(name);
      if (findings.length) {
        title.append(marker(ctx, findings));
      }
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
      leaves.push(node);
      focusable = node;
      const secrets = bindings.length ? `, ${bindings.length} secrets` : '';
      const issues = findings.length ? `, ${findings.length} findings` : '';
      focusable.setAttribute('aria-label', `${taskLabel(task)}${secrets}${issues}`);
    }
    if (severity) {
      (isGroup ? focusable.parentElement! : focusable).classList.add(`${P}-has-${severity}`);
    }
    focusable.classList.add(`${P}-focusable`);
    focusable.tabIndex = 0;
    focusable.setAttribute('role', 'button');
    focusable.setAttribute('aria-pressed', 'false');
    elements.set(task.path, focusable);
    const path = task.path;
    focusable.addEventListener('click', () => open(path));
    focusable.addEventListener('keydown', (event: KeyboardEvent) => {
      if (event.key === 'Enter' || event.key === ' ' || event.key === 'Spacebar') {
        event.preventDefault();
        open(path);
      }
    });
  }
  for (const leaf of leaves) {
    fragment.append(leaf);
  }
  canvas.append(fragment);
}
