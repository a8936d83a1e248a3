/**
 * Builds the view of a pipeline IR payload: the header, then the tabs: Graph (graph.ts, with the
 * details panel of details.ts), Findings (findings.ts), the Kubernetes platform spec and the IR
 * as YAML (documents.ts). Tabs: tabs.ts; badges and words for secrets: secrets.ts.
 *
 * Every IR string reaches the DOM through textContent or an attribute value, never innerHTML.
 */
import { DetailsPanel } from './details';
import { fillIr, fillPlatformSpec } from './documents';
import { IContext, makeContext, P, show } from './dom';
import { findingList } from './findings';
import { drawGraph, legend } from './graph';
import { ILayout, layoutPayload } from './layout';
import { Tabs } from './tabs';
import { IPayload, normalize } from './types';

export const CLASS = 'kfp-nbsecrets-ir';

/** The pipeline name, the counts and the parameters. */
function header(ctx: IContext): HTMLElement[] {
  const { el, payload } = ctx;
  const head = el('div', `${P}-header`);
  const errors = payload.findings.filter(f => f.severity === 'error').length;
  const warnings = payload.findings.length - errors;
  head.append(
    el('span', `${P}-title`, payload.pipeline.name),
    el(
      'span',
      `${P}-summary`,
      `${payload.tasks.length} tasks \u00b7 ${payload.bindings.length} secret bindings \u00b7 ` +
        `${errors} errors \u00b7 ${warnings} warnings`
    )
  );
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

/** Builds the complete view (not yet attached) for a payload and its layout. */
export function buildView(doc: Document, payload: IPayload, layout: ILayout | null, layoutError?: string): HTMLElement {
  const ctx = makeContext(doc, payload);
  const { el } = ctx;
  const view = el('div', `${P}-view`);
  view.append(...header(ctx));
  const tabs = new Tabs(el, view);

  // Graph tab: the graph and, beside it, the details panel.
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
  if (layout) {
    drawGraph(ctx, layout, canvas, elements, path => details.open(path));
  } else {
    canvas.append(el('p', `${P}-muted`, `Layout failed: ${layoutError ?? 'unknown error'}`));
  }
  if (!payload.tasks.length) {
    canvas.append(el('p', `${P}-muted`, 'This pipeline has no tasks.'));
  }
  tabs.add('graph', 'Graph', graphPanel);

  // Findings tab: a task link shows the task in the graph.
  const findingsPanel = el('div');
  if (payload.findings.length) {
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
  } else {
    findingsPanel.append(el('p', `${P}-muted`, 'No findings.'));
  }
  tabs.add('findings', `Findings (${payload.findings.length})`, findingsPanel);

  // Platform spec and IR tabs: built when first opened.
  const platformPanel = el('div');
  tabs.add('platform', 'Kubernetes platform spec', platformPanel, () => fillPlatformSpec(ctx, platformPanel));
  const irPanel = el('div');
  tabs.add('ir', 'IR (YAML)', irPanel, () => fillIr(ctx, irPanel));
  tabs.select(0);
  return view;
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
