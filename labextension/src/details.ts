/**
 * The details panel of one task: its fields, every secret (with where its name comes from), its
 * findings and its command. Opened from the graph; Escape or × closes it and returns the focus.
 */
import { commandOf } from './documents';
import { IContext, keepKeys, P } from './dom';
import { findingList } from './findings';
import { badge, bindingTarget, describeSource, secretName } from './secrets';
import { ITask } from './types';

/** The content of the panel for ``task``. */
export function details(ctx: IContext, task: ITask, close: () => void): HTMLElement {
  const { el } = ctx;
  const panel = el('section', `${P}-details-body`);
  const head = el('div', `${P}-details-head`);
  const title = el('h3', `${P}-details-title`, task.name);
  const closeButton = el('button', `${P}-close`, '\u00d7');
  closeButton.type = 'button';
  keepKeys(closeButton);
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

  const command = commandOf(ctx, task);
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

/** The panel beside the graph and the task it shows (marked selected in the graph). */
export class DetailsPanel {
  readonly aside: HTMLElement;

  /** ``elements``: the focusable element of each task path, filled when the graph is drawn. */
  constructor(
    private ctx: IContext,
    private elements: Map<string, HTMLElement>
  ) {
    this.aside = ctx.el('aside', `${P}-details`);
    this.aside.hidden = true;
    this.aside.setAttribute('aria-live', 'polite');
    this.aside.setAttribute('aria-label', 'Task details');
  }

  get isOpen(): boolean {
    return !this.aside.hidden;
  }

  open(path: string): void {
    const task = this.ctx.byPath.get(path);
    if (!task) {
      return;
    }
    this.select(this.elements.get(path) ?? null);
    this.aside.replaceChildren(details(this.ctx, task, () => this.close()));
    this.aside.hidden = false;
  }

  /** Closes the panel and returns the focus to the task it showed. */
  close(): void {
    this.aside.hidden = true;
    this.aside.replaceChildren();
    const selected = this.selected;
    this.select(null);
    selected?.focus();
  }

  private select(element: HTMLElement | null): void {
    if (this.selected) {
      this.selected.classList.remove(`${P}-selected`);
      this.selected.setAttribute('aria-pressed', 'false');
    }
    this.selected = element;
    if (element) {
      element.classList.add(`${P}-selected`);
      element.setAttribute('aria-pressed', 'true');
    }
  }

  private selected: HTMLElement | null = null;
}
