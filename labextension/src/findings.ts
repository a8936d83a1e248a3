/** Lint findings: the marker on a task, and the list (in the details and in the Findings tab). */
import { IContext, keepKeys, P } from './dom';
import { IFinding } from './types';

const SEVERITY_RANK: Record<string, number> = { error: 2, warning: 1 };

export function worstSeverity(findings: IFinding[]): string {
  let worst = '';
  for (const finding of findings) {
    if ((SEVERITY_RANK[finding.severity] ?? 0) >= (SEVERITY_RANK[worst] ?? 0)) {
      worst = finding.severity;
    }
  }
  return worst;
}

/** ``⚠ n`` / ``✖ n`` for the findings of one task; the hover lists their messages. */
export function marker(ctx: IContext, findings: IFinding[]): HTMLElement {
  const severity = worstSeverity(findings);
  const m = ctx.el(
    'span',
    `${P}-marker ${P}-marker--${severity}`,
    `${severity === 'error' ? '\u2716' : '\u26a0'} ${findings.length}`
  );
  m.title = findings.map(f => `${f.severity} [${f.code ?? ''}]: ${f.message ?? ''}`).join('\n');
  return m;
}

/** The findings as a list; with ``reveal``, a task link shows the task in the graph. */
export function findingList(
  ctx: IContext,
  findings: IFinding[],
  reveal: ((path: string) => void) | null
): HTMLElement {
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
      keepKeys(link);
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
