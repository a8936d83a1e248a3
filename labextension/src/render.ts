/**
 * Builds the view of a pipeline IR payload: the header, then the tabs: Graph (graph.ts, with the
 * details panel of details.ts), Findings (findings.ts), the Kubernetes platform spec and the IR
 * as YAML (documents.ts). Tabs: tabs.ts; badges and words for secrets: secrets.ts.
 *
 * The view appears at once with a skeleton in the graph area; ELK lays the graph out in a web
 * worker while the IR is read, then the graph is drawn in slices. Keys pressed inside the view
 * stay in it: the view and every element of it that takes the focus carry Lumino's
 * ``data-lm-suppress-shortcuts`` (dom.ts, keepKeys), so JupyterLab's command shortcuts (``a``,
 * ``b``, ``d d``... of the notebook) do not fire while a task has the focus.
 *
 * Every IR string reaches the DOM through textContent or an attribute value, never innerHTML.
 */
import { DetailsPanel } from './details';
import { fillIr, fillPlatformSpec, readIr } from './documents';
import { IContext, keepKeys, makeContext, P, show } from './dom';
import { findingList } from './findings';
import { drawGraph, legend, plural, skeleton } from './graph';
import { groupPaths, ILayout, layoutPayload } from './layout';
import { Tabs } from './tabs';
import { normalize } from './types';

export const CLASS = 'kfp-nbsecrets-ir';

/** The pipeline name, the counts and the parameters. */
function header(ctx: IContext, groups: number): HTMLElement[] {
  const { el, payload } = ctx;
  const head = el('div', `${P}-header`);
  const errors = payload.findings.filter(f => f.severity === 'error').length;
  const warnings = payload.findings.length - errors;
  const counts = [
    plural(ctx.byPath.size - groups, 'task'),
    plural(groups, 'group'),
    plural(payload.bindings.length, 'secret binding'),
    plural(errors, 'error'),
    plural(warnings, 'warning')
  ];
  head.append(el('span', `${P}-title`, payload.pipeline.name), el('span', `${P}-summary`, counts.join(' \u00b7 ')));
  if (payload.version !== 1) {
    head.append(el('span', `${P}-muted`, `payload version ${payload.version}, shown as version 1`));
  }
  if (!payload.pipeline.parameters.length) {
    return [head];
  }
  const params = el('div', `${P}-params`);
  params.append(el('span', `${P}-muted`, 'Parameters: '));
  for (const p of payload.pipeline.parameters) {
    const text = `${p.name}: ${p.type ?? '?'}` + ('default' in p ? ` = ${show(p.default)}` : '');
    params.append(el('code', `${P}-param`, text));
  }
  return [head, params];
}

/** A view being built: the element, and how to draw its graph once laid out. */
interface IView {
  view: HTMLElement;
  draw(layout: ILayout | null, layoutError: string | undefined, current: () => boolean): Promise<boolean>;
}

/** The view of ``ctx``'s payload, its graph area showing a skeleton until ``draw`` is called. */
function buildView(ctx: IContext): IView {
  const { el, payload } = ctx;
  const groups = groupPaths(payload);
  const groupCount = [...ctx.byPath.keys()].filter(path => groups.has(path)).length;
  const view = el('div', `${P}-view`);
  keepKeys(view);
  view.append(...header(ctx, groupCount));
  const tabs = new Tabs(el, view);

  // Graph tab: the graph and, beside it when there is room (else below it), the details panel.
  const graphPanel = el('div');
  const body = el('div', `${P}-body`);
  const scroller = el('div', `${P}-scroll`);
  const canvas = el('div', `${P}-canvas`);
  const elements = new Map<string, HTMLElement>();
  const details = new DetailsPanel(ctx, elements);
  scroller.append(canvas);
  body.append(scroller, details.aside);
  graphPanel.append(legend(el), body);
  view.addEventListener('keydown', (event: KeyboardEvent) => {
    if (event.key === 'Escape' && details.isOpen) {
      event.preventDefault();
      details.close();
    }
  });
  if (payload.tasks.length) {
    canvas.append(skeleton(ctx, ctx.byPath.size - groupCount, groupCount));
  } else {
    canvas.append(el('p', `${P}-muted`, 'This pipeline has no tasks.'));
  }
  tabs.add('graph', 'Graph', graphPanel);

  // Findings tab, built when first opened: a task link shows the task in the graph.
  const findingsPanel = el('div');
  tabs.add('findings', `Findings (${payload.findings.length})`, findingsPanel, () => {
    if (!payload.findings.length) {
      findingsPanel.append(el('p', `${P}-muted`, 'No findings.'));
      return;
    }
    findingsPanel.append(
      findingList(ctx, payload.findings, path => {
        tabs.select(0);
        details.open(path);
        const node = elements.get(path);
        if (node) {
          node.scrollIntoView?.({ block: 'nearest', inline: 'nearest' });
          node.focus();
        }
      })
    );
  });

  // Platform spec and IR tabs: built from the IR when first opened.
  const platformPanel = el('div');
  tabs.add('platform', 'Kubernetes platform spec', platformPanel, () => fillPlatformSpec(ctx, platformPanel));
  const irPanel = el('div');
  tabs.add('ir', 'IR (YAML)', irPanel, () => fillIr(ctx, irPanel));
  tabs.select(0);

  const draw = async (layout: ILayout | null, layoutError: string | undefined, current: () => boolean) => {
    if (!layout) {
      canvas.replaceChildren(el('p', `${P}-muted`, `Layout failed: ${layoutError ?? 'unknown error'}`));
      return true;
    }
    view.dataset.layoutEngine = layout.engine;
    if (!payload.tasks.length) {
      return true;
    }
    return drawGraph(ctx, layout, canvas, elements, path => details.open(path), current);
  };
  return { view, draw };
}

const generations = new WeakMap<HTMLElement, number>();

/**
 * Renders ``data`` into ``host``, replacing what it held; resolves when the graph is drawn.
 * Idempotent: rendering the same data twice (also concurrently) leaves one view; a newer render
 * of the same host stops an older one.
 */
export async function renderPipeline(host: HTMLElement, data: unknown): Promise<void> {
  const generation = (generations.get(host) ?? 0) + 1;
  generations.set(host, generation);
  const current = () => generations.get(host) === generation;
  const payload = normalize(data);
  const ctx = makeContext(host.ownerDocument, payload);
  const { view, draw } = buildView(ctx);
  host.replaceChildren(view);
  const [layout, ir] = await Promise.allSettled([layoutPayload(payload), readIr(payload)]);
  if (!current()) {
    return;
  }
  if (ir.status === 'fulfilled') {
    ctx.ir = ir.value;
  } else {
    ctx.irError = `The compiled IR (field "irGzip") cannot be read: ${String(ir.reason)}`;
  }
  if (layout.status === 'fulfilled') {
    await draw(layout.value, undefined, current);
  } else {
    await draw(null, String(layout.reason), current);
  }
}
