import { readFileSync } from 'fs';
import { join } from 'path';
import { describe, expect, it } from 'vitest';

import extension, { MIME_TYPE, PipelineIRRenderer } from '../src/index';
import { layoutPayload } from '../src/layout';
import { renderPipeline } from '../src/render';
import { normalize } from '../src/types';

const fixture = (name: string) =>
  JSON.parse(readFileSync(join(__dirname, '..', 'test-fixtures', name), 'utf8'));
const nested = fixture('nested.json');
const hostile = fixture('hostile.json');
const HOSTILE = '<img src=x onerror=alert(1)>';

function host(): HTMLElement {
  const element = document.createElement('div');
  document.body.append(element);
  return element;
}

function byPath(root: HTMLElement, path: string): HTMLElement {
  const found = [...root.querySelectorAll<HTMLElement>('[data-path]')].find(e => e.dataset.path === path);
  if (!found) {
    throw new Error(`no element for ${path}`);
  }
  return found;
}

function key(element: HTMLElement, name: string) {
  element.dispatchEvent(new KeyboardEvent('keydown', { key: name, bubbles: true, cancelable: true }));
}

describe('pipeline IR renderer', () => {
  it('draws tasks, nested DAG groups, edges, badges and finding markers', async () => {
    const root = host();
    await renderPipeline(root, nested);
    const groups = [...root.querySelectorAll<HTMLElement>('.kfp-nbsecrets-group')].map(g => g.dataset.path);
    expect(groups.sort()).toEqual([
      'exit-handler-1',
      'exit-handler-1/condition-branches-3',
      'exit-handler-1/condition-branches-3/condition-4',
      'exit-handler-1/condition-branches-3/condition-5',
      'exit-handler-1/condition-branches-3/condition-6',
      'exit-handler-1/for-loop-2',
      'exit-handler-1/inner'
    ]);
    const tasks = root.querySelectorAll<HTMLElement>('.kfp-nbsecrets-task');
    expect(tasks.length).toBe(8);
    for (const task of tasks) {
      expect(task.tabIndex).toBe(0);
      expect(task.getAttribute('role')).toBe('button');
    }
    expect(root.querySelectorAll('.kfp-nbsecrets-edge').length).toBe(2);
    expect(root.querySelector('.kfp-nbsecrets-title')!.textContent).toBe('nested');

    const badges = (path: string) =>
      [...byPath(root, path).querySelectorAll('.kfp-nbsecrets-badge')].map(b => b.textContent);
    expect(badges('consume')).toEqual(['envliteral', 'pullliteral']);
    expect(badges('exit-handler-1/for-loop-2/consume-3')).toEqual(['volloop item']);
    expect(badges('exit-handler-1/condition-branches-3/condition-5/consume-5')).toEqual(['voloutput']);
    expect(badges('exit-handler-1/inner/consume')).toEqual(['envparam']);
    expect(byPath(root, 'exit-handler-1/inner/consume').querySelector('.kfp-nbsecrets-badge--env')).not.toBeNull();

    const marked = [...root.querySelectorAll<HTMLElement>('.kfp-nbsecrets-has-warning')].map(e => e.dataset.path);
    expect(marked.sort()).toEqual(nested.findings.map((f: any) => f.task).sort());
    expect(byPath(root, 'exit-handler-1/inner/consume').querySelector('.kfp-nbsecrets-marker')!.textContent).toBe(
      '\u26a0 1'
    );
  });

  it('lays nested tasks out inside their groups', async () => {
    const layout = await layoutPayload(normalize(nested));
    for (const task of nested.tasks) {
      const box = layout.boxes.get(task.path)!;
      expect(box.width).toBeGreaterThan(0);
      if (task.parent) {
        const outer = layout.boxes.get(task.parent)!;
        expect(box.x).toBeGreaterThanOrEqual(outer.x);
        expect(box.y).toBeGreaterThan(outer.y);
        expect(box.x + box.width).toBeLessThanOrEqual(outer.x + outer.width);
        expect(box.y + box.height).toBeLessThanOrEqual(outer.y + outer.height);
      }
    }
    // produce -> exit-handler-1 goes downwards
    const edge = layout.edges.find(e => e.from === 'produce')!;
    expect(edge.points[0].y).toBeLessThan(edge.points[edge.points.length - 1].y);
  });

  it('opens details on click and on Enter/Space, closes them on Escape', async () => {
    const root = host();
    await renderPipeline(root, nested);
    const aside = root.querySelector<HTMLElement>('.kfp-nbsecrets-details')!;
    expect(aside.hidden).toBe(true);

    const inner = byPath(root, 'exit-handler-1/inner/consume');
    inner.click();
    expect(aside.hidden).toBe(false);
    expect(aside.querySelector('.kfp-nbsecrets-details-title')!.textContent).toBe('consume');
    const text = aside.textContent!;
    expect(text).toContain('exit-handler-1/inner/consume');
    expect(text).toContain('python:3.11');
    expect(text).toContain('kfp.dsl.executor_main');
    const source = aside.querySelector('.kfp-nbsecrets-source')!.textContent;
    expect(source).toBe("{{secret_name}} = 'db-creds' (a pipeline parameter), via inner_secret \u2190 pipelinechannel--secret_name");
    expect(aside.querySelector('.kfp-nbsecrets-target')!.textContent).toBe('token \u2192 TOKEN');
    expect(inner.getAttribute('aria-pressed')).toBe('true');

    const loop = byPath(root, 'exit-handler-1/for-loop-2/consume-3');
    loop.focus();
    key(loop, 'Enter');
    expect(aside.querySelector('.kfp-nbsecrets-target')!.textContent).toBe('/secrets/loop');
    expect(aside.querySelector('.kfp-nbsecrets-source')!.textContent).toContain('item of {{names}}');
    expect(inner.getAttribute('aria-pressed')).toBe('false');

    const top = byPath(root, 'consume');
    key(top, ' ');
    expect(aside.querySelectorAll('.kfp-nbsecrets-binding').length).toBe(2);
    expect(aside.textContent).toContain('optional');

    key(top, 'Escape');
    expect(aside.hidden).toBe(true);
    expect(document.activeElement).toBe(top);

    // Group labels open the DAG task's details too.
    const group = byPath(root, 'exit-handler-1/for-loop-2').querySelector<HTMLElement>('.kfp-nbsecrets-group-label')!;
    expect(group.tabIndex).toBe(0);
    key(group, 'Enter');
    expect(aside.querySelector('.kfp-nbsecrets-details-title')!.textContent).toBe('for-loop-2');
  });

  it('re-renders idempotently, also when renders overlap', async () => {
    const once = host();
    await renderPipeline(once, nested);
    const twice = host();
    await renderPipeline(twice, nested);
    await renderPipeline(twice, nested);
    expect(twice.innerHTML).toBe(once.innerHTML);
    expect(twice.querySelectorAll('.kfp-nbsecrets-view').length).toBe(1);

    const overlapping = host();
    await Promise.all([renderPipeline(overlapping, fixture('flat.json')), renderPipeline(overlapping, nested)]);
    expect(overlapping.innerHTML).toBe(once.innerHTML);
  });

  it('shows hostile strings as text and creates no element from them', async () => {
    const root = host();
    await renderPipeline(root, hostile);
    const node = byPath(root, `exit-handler-1/for-loop-2/${HOSTILE}`);
    expect(node.querySelector('.kfp-nbsecrets-task-name')!.textContent).toBe(HOSTILE);
    expect(root.querySelector('.kfp-nbsecrets-title')!.textContent).toBe('<h1>pwned</h1>');
    node.click();
    for (const tab of root.querySelectorAll<HTMLElement>('.kfp-nbsecrets-tab')) {
      tab.click();
    }
    expect(root.textContent).toContain(HOSTILE);
    expect(root.textContent).toContain('<script>alert(2)</script>');
    expect(root.textContent).toContain('<svg onload=alert(3)>');
    expect(root.textContent).toContain('<a href=javascript:alert(4)>click</a>');
    expect(root.querySelectorAll('img, script, h1, b, i, a').length).toBe(0);
    expect(root.querySelectorAll('svg').length).toBe(1);
    for (const element of root.querySelectorAll('*')) {
      for (const attribute of element.getAttributeNames()) {
        expect(attribute.startsWith('on')).toBe(false);
      }
    }
  });

  it('has tabs for findings, the platform spec and the IR as YAML', async () => {
    const root = host();
    await renderPipeline(root, { ...nested, platformSpec: { platforms: { kubernetes: { a: 1 } } } });
    const tabs = [...root.querySelectorAll<HTMLElement>('[role=tab]')];
    expect(tabs.map(t => t.textContent)).toEqual(['Graph', 'Findings (4)', 'Kubernetes platform spec', 'IR (YAML)']);
    const panel = (key: string) => root.querySelector<HTMLElement>(`[role=tabpanel][data-tab=${key}]`)!;
    expect(panel('graph').hidden).toBe(false);
    expect(panel('platform').textContent).toBe('');
    tabs[2].click();
    expect(panel('graph').hidden).toBe(true);
    expect(panel('platform').querySelector('pre')!.textContent).toBe('platforms:\n  kubernetes:\n    a: 1\n');
    key(tabs[2], 'ArrowRight');
    expect(panel('ir').hidden).toBe(false);
    expect(document.activeElement).toBe(tabs[3]);
    expect(panel('ir').textContent).toContain('pipelineInfo:\n  name: nested');
    tabs[1].click();
    const links = panel('findings').querySelectorAll<HTMLElement>('.kfp-nbsecrets-task-link');
    expect(links.length).toBe(4);
    links[3].click();
    expect(panel('graph').hidden).toBe(false);
    expect(root.querySelector('.kfp-nbsecrets-details-title')!.textContent).toBe('consume');
  });

  it('survives payloads with missing fields', async () => {
    for (const data of [null, {}, { tasks: 'x' }, { version: 2, tasks: [{ name: 'only' }] }]) {
      const root = host();
      await renderPipeline(root, data);
      expect(root.querySelectorAll('.kfp-nbsecrets-view').length).toBe(1);
    }
  });

  it('is a MIME renderer extension for the payload type', async () => {
    expect(MIME_TYPE).toBe('application/vnd.kfp-nbsecrets.pipeline-ir.v1+json');
    expect(extension.rendererFactory.mimeTypes).toEqual([MIME_TYPE]);
    const renderer = extension.rendererFactory.createRenderer({
      mimeType: MIME_TYPE,
      sanitizer: {} as any,
      resolver: null,
      linkHandler: null,
      latexTypesetter: null
    } as any) as PipelineIRRenderer;
    await renderer.renderModel({ data: { [MIME_TYPE]: nested } } as any);
    expect(renderer.node.classList.contains('kfp-nbsecrets-ir')).toBe(true);
    expect(renderer.node.querySelectorAll('.kfp-nbsecrets-task').length).toBe(8);
  });
});
