/**
 * Builds the view of a pipeline IR payload: header, tabs (graph, findings, Kubernetes platform
 * spec, IR as YAML), the laid-out DAG with secret badges and finding markers, and a details panel.
 *
 * Every IR string reaches the DOM through textContent or an attribute value, never innerHTML.
 */
import { dump } from 'js-yaml';

import { GROUP_HEADER, groupPaths, ILayout, layoutPayload } from './layout';
import { IBinding, IFinding, IPayload, ITask, normalize } from './types';

export const CLASS = 'kfp-nbsecrets-ir';
const P = 'kfp-nbsecrets';

const BINDING_LABEL: Record<string, string> = { env: 'env', volume: 'vol', 'image-pull': 'pull' };
const BINDING_TITLE: Record<string, string> = {
  env: 'secret as environment variables',
  volume: 'secret as a volume',
  'image-pull': 'image pull secret'
};
const SOURCE_LABEL: Record<string, string> = {
  literal: 'literal',
  parameter: 'param',
  'task-output': 'output',
  'loop-item': 'loop item',
  unresolved: 'unresolved'
};
const SOURCE_TITLE: Record<string, string> = {
  literal: 'a literal name',
  parameter: 'a pipeline parameter',
  'task-output': 'an upstream task output',
  'loop-item': 'a loop item',
  unresolved: 'unresolved'
};
const GROUP_LABEL: Record<string, string> = {
  pipeline: 'sub-pipeline',
  'for-loop': 'loop',
  condition: 'condition',
  'condition-branches': 'branches',
  'exit-handler': 'exit handler'
};
const SEVERITY_RANK: Record<string, number> = { error: 2, warning: 1 };

type Maker = <K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className?: string,
  text?: string
) => HTMLElementTagNameMap[K];

function maker(doc: Document): Maker {
  return (tag, className, text) => {
    const element = doc.createElement(tag);
    if (className) {
      element.className = className;
    }
    if (text !== undefined) {
      element.textContent = text;
    }
    return element;
  };
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = map.get(k);
    if (list) {
      list.push(item);
    } else {
      map.set(k, [item]);
    }
  }
  return map;
}

function worstSeverity(findings: IFinding[]): string {
  let worst = '';
  for (const finding of findings) {
    if ((SEVERITY_RANK[finding.severity] ?? 0) >= (SEVERITY_RANK[worst] ?? 0)) {
      worst = finding.severity;
    }
  }
  return worst;
}

function show(value: unknown): string {
  if (typeof value === 'string') {
    return value;
  }
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

function toYaml(value: unknown): string {
  try {
    return dump(value, { noRefs: true, lineWidth: 120, skipInvalid: true });
  } catch (error) {
    return `# cannot show as YAML: ${String(error)}\n${show(value)}`;
  }
}

/** Where a binding's secret name comes from, in words, with the chain of inputs it passes. */
export function describeSource(binding: IBinding): string {
  const source = binding.source;
  if (!source) {
    return 'unknown';
  }
  const what = SOURCE_TITLE[source.kind] ?? source.kind;
  const text = source.text ? `${source.text} (${what})` : what;
  const via = (source.via ?? []).filter((name, i, all) => i === 0 || name !== all[i - 1]);
  return via.length ? `${text}, via ${via.join(' \u2190 ')}` : text;
}

function bindingTarget(binding: IBinding): string {
  if (binding.kind === 'env') {
    return (binding.env ?? []).map(e => `${e.secretKey} \u2192 ${e.envVar}`).join(', ');
  }
  if (binding.kind === 'volume') {
    return binding.mountPath ?? '';
  }
  return binding.kind === 'image-pull' ? 'image pull' : '';
}

function secretName(binding: IBinding): string {
  const source = binding.source;
  if (source?.kind === 'literal' && source.name !== undefined) {
    return source.name;
  }
  return source?.text ?? binding.reference ?? '?';
}

interface IContext {
  doc: Document;
  el: Maker;
  payload: IPayload;
  byPath: Map<string, ITask>;
  bindings: Map<string, IBinding[]>;
  findings: Map<string, IFinding[]>;
}

function badge(ctx: IContext, binding: IBinding): HTMLElement {
  const kind = binding.kind;
  const source = binding.source?.kind ?? 'unresolved';
  const b = ctx.el('span', `${P}-badge ${P}-badge--${kind} ${P}-src--${source}`);
  b.append(
    ctx.el('span', `${P}-badge-kind`, BINDING_LABEL[kind] ?? kind),
    ctx.el('span', `${P}-badge-src`, SOURCE_LABEL[source] ?? source)
  );
  const optional = binding.optional ? ', optional' : '';
  b.title = `${BINDING_TITLE[kind] ?? kind}${optional}: ${secretName(binding)} from ${
    SOURCE_TITLE[source] ?? source
  }`;
  return b;
}

function marker(ctx: IContext, findings: IFinding[]): HTMLElement {
  const severity = worstSeverity(findings);
  const m = ctx.el(
    'span',
    `${P}-marker ${P}-marker--${severity}`,
    `${severity === 'error' ? '\u2716' : '\u26a0'} ${findings.length}`
  );
  m.title = findings.map(f => `${f.severity} [${f.code ?? ''}]: ${f.message ?? ''}`).join('\n');
  return m;
}

function taskLabel(task: ITask): string {
  const kindLabel = GROUP_LABEL[task.kind] ?? task.kind;
  return `${task.name}, ${kindLabel}`;
}

/** The details of one task: fields, secret bindings (with where each name comes from), findings, command. */
function details(ctx: IContext, task: ITask, close: () => void): HTMLElement {
  const { el } = ctx;
  const panel = el('section', `${P}-details-body`);
  const head = el('div', `${P}-details-head`);
  const title = el('h3', `${P}-details-title`, task.name);
  const closeButton = el('button', `${P}-close`, '\u00d7');
  closeButton.type = 'button';
  closeButton.setAttribute('aria-label', 'Close details');
  closeButton.title = 'Close details (Escape)';
  closeButton.addEventListener('click', close);
  head.append(title, closeButton);
  panel.append(head);

  const fields: [string, string][] = [
    ['Path', task.path],
    ['Kind', task.kind],
    ['Component', task.component ?? ''],
    ['Executor', task.executor ?? '\u2014'],
    ['Image', task.image ?? '\u2014'],
    ['Caching', task.caching ? 'on' : 'off'],
    ['Depends on', (task.dependsOn ?? []).join(', ') || '\u2014']
  ];
  const dl = el('dl', `${P}-fields`);
  for (const [name, value] of fields) {
    dl.append(el('dt', undefined, name), el('dd', undefined, value));
  }
  panel.append(dl);

  const bindings = ctx.bindings.get(task.path) ?? [];
  panel.append(el('h4', undefined, `Secrets (${bindings.length})`));
  if (bindings.length) {
    const list = el('div', `${P}-bindings`);
    for (const binding of bindings) {
      const card = el('div', `${P}-binding`);
      const head = el('div', `${P}-binding-head`);
      head.append(badge(ctx, binding), el('code', `${P}-secret`, secretName(binding)));
      if (binding.optional) {
        head.append(el('span', `${P}-optional`, 'optional'));
      }
      const rows = el('dl', `${P}-fields`);
      const add = (name: string, value: string, className?: string) =>
        rows.append(el('dt', undefined, name), el('dd', className, value));
      add('Name from', describeSource(binding), `${P}-source`);
      add(binding.kind === 'volume' ? 'Mount' : binding.kind === 'env' ? 'Env' : 'Use', bindingTarget(binding), `${P}-target`);
      if (binding.reference) {
        add('In the IR', binding.reference, `${P}-reference`);
      }
      card.append(head, rows);
      list.append(card);
    }
    panel.append(list);
  } else {
    panel.append(el('p', `${P}-muted`, 'No secrets on this task.'));
  }

  const findings = ctx.findings.get(task.path) ?? [];
  if (findings.length) {
    panel.append(el('h4', undefined, `Findings (${findings.length})`));
    panel.append(findingList(ctx, findings, null));
  }

  const command = task.command ?? [];
  if (command.length) {
    panel.append(el('h4', undefined, 'Command'));
    const box = el('div', `${P}-command`);
    for (const arg of command) {
      box.append(el('pre', undefined, arg));
    }
    panel.append(box);
  }
  return panel;
}

function findingList(ctx: IContext, findings: IFinding[], reveal: ((path: string) => void) | null): HTMLElement {
  const { el } = ctx;
  const list = el('ul', `${P}-findings`);
  for (const finding of findings) {
    const item = el('li', `${P}-finding ${P}-finding--${finding.severity}`);
    item.append(el('span', `${P}-severity`, finding.severity));
    if (finding.code) {
      item.append(el('span', `${P}-code`, finding.code));
    }
    if (reveal && finding.task) {
      const link = el('button', `${P}-task-link`, finding.task);
      link.type = 'button';
      link.title = 'Show this task in the graph';
      const path = finding.task;
      link.addEventListener('click', () => reveal(path));
      item.append(link);
    }
    item.append(el('div', `${P}-message`, finding.message ?? ''));
    if (finding.fix) {
      item.append(el('div', `${P}-fix`, `Fix: ${finding.fix}`));
    }
    list.append(item);
  }
  return list;
}

function svgEl(doc: Document, tag: string, attrs: Record<string, string>): SVGElement {
  const element = doc.createElementNS('http://www.w3.org/2000/svg', tag) as SVGElement;
  for (const [k, v] of Object.entries(attrs)) {
    element.setAttribute(k, v);
  }
  return element;
}

/** Builds the complete view (not yet attached) for a payload and its layout. */
export function buildView(doc: Document, payload: IPayload, layout: ILayout | null, layoutError?: string): HTMLElement {
  const el = maker(doc);
  const byPath = new Map<string, ITask>();
  for (const task of payload.tasks) {
    if (!byPath.has(task.path)) {
      byPath.set(task.path, task);
    }
  }
  const ctx: IContext = {
    doc,
    el,
    payload,
    byPath,
    bindings: groupBy(payload.bindings, b => String(b.task)),
    findings: groupBy(
      payload.findings.filter(f => f.task),
      f => String(f.task)
    )
  };
  const view = el('div', `${P}-view`);

  // Header: name, counts, parameters.
  const header = el('div', `${P}-header`);
  const errors = payload.findings.filter(f => f.severity === 'error').length;
  const warnings = payload.findings.length - errors;
  header.append(
    el('span', `${P}-title`, payload.pipeline.name),
    el(
      'span',
      `${P}-summary`,
      `${payload.tasks.length} tasks \u00b7 ${payload.bindings.length} secret bindings \u00b7 ` +
        `${errors} errors \u00b7 ${warnings} warnings`
    )
  );
  if (payload.version !== 1) {
    header.append(el('span', `${P}-muted`, `payload version ${payload.version}, shown as version 1`));
  }
  view.append(header);
  if (payload.pipeline.parameters.length) {
    const params = el('div', `${P}-params`);
    params.append(el('span', `${P}-muted`, 'Parameters: '));
    for (const p of payload.pipeline.parameters) {
      const text = `${p.name}: ${p.type ?? '?'}` + ('default' in p ? ` = ${show(p.default)}` : '');
      params.append(el('code', `${P}-param`, text));
    }
    view.append(params);
  }

  // Tabs.
  const tabs = el('div', `${P}-tabs`);
  tabs.setAttribute('role', 'tablist');
  view.append(tabs);
  const panels: { tab: HTMLButtonElement; panel: HTMLElement; fill?: () => void }[] = [];
  const select = (index: number, focus = false) => {
    panels.forEach((entry, i) => {
      const on = i === index;
      entry.tab.setAttribute('aria-selected', String(on));
      entry.tab.tabIndex = on ? 0 : -1;
      entry.panel.hidden = !on;
      if (on && entry.fill) {
        entry.fill();
        entry.fill = undefined;
      }
    });
    if (focus) {
      panels[index].tab.focus();
    }
  };
  const addTab = (key: string, label: string, panel: HTMLElement, fill?: () => void) => {
    const index = panels.length;
    const tab = el('button', `${P}-tab`, label);
    tab.type = 'button';
    tab.setAttribute('role', 'tab');
    tab.dataset.tab = key;
    panel.setAttribute('role', 'tabpanel');
    panel.dataset.tab = key;
    panel.classList.add(`${P}-panel`);
    tab.addEventListener('click', () => select(index));
    tab.addEventListener('keydown', (event: KeyboardEvent) => {
      const step = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
      if (step) {
        event.preventDefault();
        select((index + step + panels.length) % panels.length, true);
      }
    });
    tabs.append(tab);
    view.append(panel);
    panels.push({ tab, panel, fill });
  };

  // Graph tab.
  const graphPanel = el('div');
  const body = el('div', `${P}-body`);
  const scroller = el('div', `${P}-scroll`);
  const canvas = el('div', `${P}-canvas`);
  const aside = el('aside', `${P}-details`);
  aside.hidden = true;
  aside.setAttribute('aria-live', 'polite');
  aside.setAttribute('aria-label', 'Task details');
  scroller.append(canvas);
  body.append(scroller, aside);
  graphPanel.append(legend(el), body);

  const elements = new Map<string, HTMLElement>();
  let selected: HTMLElement | null = null;
  const closeDetails = () => {
    aside.hidden = true;
    aside.replaceChildren();
    if (selected) {
      selected.classList.remove(`${P}-selected`);
      selected.setAttribute('aria-pressed', 'false');
      selected.focus();
    }
    selected = null;
  };
  const openDetails = (path: string) => {
    const task = byPath.get(path);
    if (!task) {
      return;
    }
    if (selected) {
      selected.classList.remove(`${P}-selected`);
      selected.setAttribute('aria-pressed', 'false');
    }
    selected = elements.get(path) ?? null;
    if (selected) {
      selected.classList.add(`${P}-selected`);
      selected.setAttribute('aria-pressed', 'true');
    }
    aside.replaceChildren(details(ctx, task, closeDetails));
    aside.hidden = false;
  };
  view.addEventListener('keydown', (event: KeyboardEvent) => {
    if (event.key === 'Escape' && !aside.hidden) {
      event.preventDefault();
      closeDetails();
    }
  });

  if (layout) {
    drawGraph(ctx, layout, canvas, elements, openDetails);
  } else {
    canvas.append(el('p', `${P}-muted`, `Layout failed: ${layoutError ?? 'unknown error'}`));
  }
  if (!payload.tasks.length) {
    canvas.append(el('p', `${P}-muted`, 'This pipeline has no tasks.'));
  }
  addTab('graph', 'Graph', graphPanel);

  // Findings tab.
  const findingsPanel = el('div');
  if (payload.findings.length) {
    findingsPanel.append(
      findingList(ctx, payload.findings, path => {
        select(0);
        openDetails(path);
        const node = elements.get(path);
        if (node) {
          node.scrollIntoView?.({ block: 'nearest', inline: 'nearest' });
          node.focus();
        }
      })
    );
  } else {
    findingsPanel.append(el('p', `${P}-muted`, 'No findings.'));
  }
  addTab('findings', `Findings (${payload.findings.length})`, findingsPanel);

  // Platform spec and IR tabs: built when first opened.
  const platformPanel = el('div');
  addTab('platform', 'Kubernetes platform spec', platformPanel, () => {
    if (payload.platformSpec !== undefined) {
      platformPanel.append(el('pre', `${P}-yaml`, toYaml(payload.platformSpec)));
      return;
    }
    platformPanel.append(
      el(
        'p',
        `${P}-muted`,
        'This payload carries no platform spec (field "platformSpec"); the secret entries it holds, by task:'
      ),
      el(
        'pre',
        `${P}-yaml`,
        toYaml(Object.fromEntries([...ctx.bindings].map(([task, list]) => [task, list])))
      )
    );
  });
  const irPanel = el('div');
  addTab('ir', 'IR (YAML)', irPanel, () => {
    if (payload.ir !== undefined) {
      const docs = Array.isArray(payload.ir) ? payload.ir : [payload.ir];
      irPanel.append(el('pre', `${P}-yaml`, docs.map(toYaml).join('---\n')));
      return;
    }
    irPanel.append(
      el('p', `${P}-muted`, 'This payload carries no compiled IR (field "ir"); the payload itself:'),
      el('pre', `${P}-yaml`, toYaml(payload))
    );
  });
  select(0);
  return view;
}

function legend(el: Maker): HTMLElement {
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

function position(element: HTMLElement, box: { x: number; y: number; width: number; height: number }) {
  element.style.left = `${box.x}px`;
  element.style.top = `${box.y}px`;
  element.style.width = `${box.width}px`;
  element.style.height = `${box.height}px`;
}

function drawGraph(
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

const generations = new WeakMap<HTMLElement, number>();

/**
 * Renders ``data`` into ``host``, replacing what it held. Idempotent: rendering the same data
 * twice (also concurrently) leaves one view; only the latest call's view is attached.
 */
export async function renderPipeline(host: HTMLElement, data: unknown): Promise<void> {
  const generation = (generations.get(host) ?? 0) + 1;
  generations.set(host, generation);
  const payload = normalize(data);
  let layout: ILayout | null = null;
  let error: string | undefined;
  try {
    layout = await layoutPayload(payload);
  } catch (e) {
    error = String(e);
  }
  if (generations.get(host) !== generation) {
    return;
  }
  const view = buildView(host.ownerDocument, payload, layout, error);
  host.replaceChildren(view);
}
