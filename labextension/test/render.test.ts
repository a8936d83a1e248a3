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

    // each badge: the kind, then the secret name (or the parameter, output or loop it comes from)
    const badges = (path: string) =>
      [...byPath(root, path).querySelectorAll('.kfp-nbsecrets-badge')].map(b =>
        [...b.children].map(part => part.textContent).join(' ')
      );
    expect(badges('consume')).toEqual(['env literal-creds', 'pull regcred']);
    expect(badges('exit-handler-1/for-loop-2/consume-3')).toEqual(['vol item of {{names}}']);
    expect(badges('exit-handler-1/condition-branches-3/condition-5/consume-5')).toEqual(['vol {{produce.Output}}']);
    expect(badges('exit-handler-1/inner/consume')).toEqual(['env {{secret_name}}']);
    expect(byPath(root, 'exit-handler-1/inner/consume').querySelector('.kfp-nbsecrets-badge--env')).not.toBeNull();

    const marked = [...root.querySelectorAll<HTMLElement>('.kfp-nbsecrets-has-warning')].map(e => e.dataset.path);
    expect(marked.sort()).toEqual(nested.findings.flatMap((f: any) => f.tasks).sort());
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
    expect(source).toBe("{{secret_name}} = 'db-creds' (a pipeline parameter), via pipelinechannel--secret_name \u2192 inner_secret");
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

  it('has tabs for findings, the platform spec and the IR as YAML, both read from the IR', async () => {
    const root = host();
    await renderPipeline(root, nested);
    const tabs = [...root.querySelectorAll<HTMLElement>('[role=tab]')];
    expect(tabs.map(t => t.textContent)).toEqual(['Graph', 'Findings (4)', 'Kubernetes platform spec', 'IR (YAML)']);
    const panel = (key: string) => root.querySelector<HTMLElement>(`[role=tabpanel][data-tab=${key}]`)!;
    expect(panel('graph').hidden).toBe(false);
    expect(panel('platform').textContent).toBe('');
    tabs[2].click();
    expect(panel('graph').hidden).toBe(true);
    const platform = panel('platform').querySelector('pre')!.textContent!;
    expect(platform.startsWith('platforms:\n  kubernetes:\n    deploymentSpec:\n')).toBe(true);
    expect(platform).toContain('secretAsEnv');
    key(tabs[2], 'ArrowRight');
    expect(panel('ir').hidden).toBe(false);
    expect(document.activeElement).toBe(tabs[3]);
    expect(panel('ir').textContent).toContain('pipelineInfo:\n  name: nested');
    expect(panel('ir').textContent).toContain('\n---\nplatforms:\n');
    tabs[1].click();
    const links = panel('findings').querySelectorAll<HTMLElement>('.kfp-nbsecrets-task-link');
    expect(links.length).toBe(4);
    links[3].click();
    expect(panel('graph').hidden).toBe(false);
    expect(root.querySelector('.kfp-nbsecrets-details-title')!.textContent).toBe('consume');
  });

  it('draws every arrowhead inline: no marker, no id shared between two views', async () => {
    const first = host();
    const second = host();
    await renderPipeline(first, nested);
    await renderPipeline(second, nested);
    for (const root of [first, second]) {
      const edges = [...root.querySelectorAll<SVGElement>('path.kfp-nbsecrets-edge')];
      const heads = [...root.querySelectorAll<SVGElement>('path.kfp-nbsecrets-arrowhead')];
      expect(edges.length).toBe(2);
      expect(heads.map(h => `${h.dataset.from}>${h.dataset.to}`)).toEqual(
        edges.map(e => `${e.dataset.from}>${e.dataset.to}`)
      );
      for (const head of heads) {
        expect(head.getAttribute('d')).toMatch(/^M [\d.]+ [\d.]+ L [\d.]+ [\d.]+ L [\d.]+ [\d.]+ Z$/);
      }
      expect(root.querySelectorAll('marker, [id], [marker-end]').length).toBe(0);
    }
  });

  it('keeps its keys from JupyterLab shortcuts (Lumino data-lm-suppress-shortcuts)', async () => {
    const root = host();
    await renderPipeline(root, nested);
    // on every element that takes the focus (Lumino checks the focused element before its ancestors)
    byPath(root, 'consume').click();
    const focusable = [...root.querySelectorAll<HTMLElement>('button, [tabindex]')];
    expect(focusable.length).toBeGreaterThan(15);
    for (const element of focusable) {
      expect(element.dataset.lmSuppressShortcuts).toBe('true');
    }
    expect(root.querySelector<HTMLElement>('.kfp-nbsecrets-view')!.dataset.lmSuppressShortcuts).toBe('true');
  });

  it('reads a finding of several tasks as one per task, in task order; earlier payloads name one task', () => {
    const tasks = [{ path: 'a' }, { path: 'b' }, { path: 'c' }];
    const findings = [
      { severity: 'warning', code: 'x', tasks: ['c', 'a'] },
      { severity: 'error', code: 'y', tasks: ['b'] }
    ];
    expect(normalize({ tasks, findings }).findings.map(f => [f.task, f.code])).toEqual([
      ['a', 'x'],
      ['b', 'y'],
      ['c', 'x']
    ]);
    const earlier = normalize({ tasks, findings: [{ severity: 'error', code: 'y', task: 'b' }] });
    expect(earlier.findings.map(f => [f.task, f.code])).toEqual([['b', 'y']]);
  });

  it('counts tasks and groups apart, with plurals', async () => {
    const summary = async (data: unknown) => {
      const root = host();
      await renderPipeline(root, data);
      return root.querySelector('.kfp-nbsecrets-summary')!.textContent;
    };
    expect(await summary(nested)).toBe('8 tasks \u00b7 7 groups \u00b7 6 secret bindings \u00b7 0 errors \u00b7 4 warnings');
    expect(await summary({ tasks: [{ name: 'only' }], findings: [{ severity: 'error', task: 'only' }] })).toBe(
      '1 task \u00b7 0 groups \u00b7 0 secret bindings \u00b7 1 error \u00b7 0 warnings'
    );
  });

  it('labels conditions If / Elif / Else with their own predicate', async () => {
    const root = host();
    await renderPipeline(root, nested);
    const label = (n: number) => {
      const group = byPath(root, `exit-handler-1/condition-branches-3/condition-${n}`);
      return [...group.querySelector('.kfp-nbsecrets-group-label')!.children].map(c => c.textContent);
    };
    expect(label(4)).toEqual(['If', "produce.Output == 'x'"]);
    expect(label(5)).toEqual(['Elif', "produce.Output == 'y'"]);
    expect(label(6)).toEqual(['Else', 'condition-6']);
  });

  it('orders the focusable tasks and groups as laid out: rows top to bottom, a group then its tasks', async () => {
    const root = host();
    await renderPipeline(root, nested);
    const order = [...root.querySelectorAll<HTMLElement>('.kfp-nbsecrets-focusable')].map(element => {
      const box = element.classList.contains('kfp-nbsecrets-task') ? element : element.parentElement!;
      return { path: box.dataset.path!, top: parseFloat(box.style.top), left: parseFloat(box.style.left) };
    });
    expect(order.length).toBe(15);
    const at = (path: string) => order.findIndex(entry => entry.path === path);
    // the root DAG: consume and produce side by side, then the exit handler below them
    expect(Math.max(at('consume'), at('produce'))).toBeLessThan(at('exit-handler-1'));
    // a group's tasks come right after it, each one inside it
    for (const [index, entry] of order.entries()) {
      const parent = nested.tasks.find((t: any) => t.path === entry.path).parent;
      if (parent) {
        expect(at(parent)).toBeLessThan(index);
        expect(entry.top).toBeGreaterThan(order[at(parent)].top);
      }
    }
    // If, Elif, Else from left to right
    const branches = ['condition-4', 'condition-5', 'condition-6'].map(n => `exit-handler-1/condition-branches-3/${n}`);
    const lefts = branches.map(path => order[at(path)].left);
    expect(branches.map(at)).toEqual([...branches.map(at)].sort((a, b) => a - b));
    expect(lefts).toEqual([...lefts].sort((a, b) => a - b));
  });

  it('shows a skeleton at once, then the graph; one arrow glyph in the details', async () => {
    const root = host();
    const done = renderPipeline(root, nested);
    expect(root.querySelector('.kfp-nbsecrets-skeleton')!.textContent).toBe('Laying out 8 tasks and 7 groups\u2026');
    expect(root.querySelector('.kfp-nbsecrets-title')!.textContent).toBe('nested');
    await done;
    expect(root.querySelector('.kfp-nbsecrets-skeleton')).toBeNull();
    expect(root.querySelector<HTMLElement>('.kfp-nbsecrets-view')!.dataset.layoutEngine).toBe('page');
    byPath(root, 'exit-handler-1/inner/consume').click();
    const secrets = root.querySelector('.kfp-nbsecrets-bindings')!.textContent;
    expect(secrets).toContain('\u2192');
    expect(secrets).not.toMatch(/\u2190|->/);
  });

  it('says so when the IR cannot be read, and reads the documents of earlier payloads', async () => {
    const broken = host();
    await renderPipeline(broken, { ...nested, irGzip: 'bm90IGd6aXA=' });
    expect(broken.querySelectorAll('.kfp-nbsecrets-task').length).toBe(8);
    broken.querySelector<HTMLElement>('[role=tab][data-tab=ir]')!.click();
    expect(broken.textContent).toContain('The compiled IR (field "irGzip") cannot be read');
    const { irGzip: _, ...rest } = nested;
    const earlier = host();
    await renderPipeline(earlier, { ...rest, ir: [{ pipelineInfo: { name: 'old' } }, { platforms: { kubernetes: {} } }] });
    earlier.querySelector<HTMLElement>('[role=tab][data-tab=platform]')!.click();
    expect(earlier.querySelector('[role=tabpanel][data-tab=platform] pre')!.textContent).toBe('platforms:\n  kubernetes: {}\n');
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
