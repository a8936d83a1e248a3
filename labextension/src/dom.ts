/**
 * What every part of the view shares: the class prefix, element makers (text only, never
 * innerHTML) and the render context (the payload indexed by task path).
 */
import type { IrSource } from './documents';
import { IBinding, IFinding, IPayload, ITask } from './types';

/** Prefix of every class name of the view. */
export const P = 'kfp-nbsecrets';

export type Maker = <K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className?: string,
  text?: string
) => HTMLElementTagNameMap[K];

/** An element maker for ``doc``: the text goes in through textContent. */
export function maker(doc: Document): Maker {
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

/**
 * Keeps JupyterLab's command shortcuts off ``element`` (Lumino's convention): Lumino matches a
 * shortcut's selector from the focused element up and stops at this attribute, so it must be on
 * the focused element itself (``:focus`` selectors such as the notebook's match it first).
 */
export function keepKeys(element: HTMLElement): void {
  element.dataset.lmSuppressShortcuts = 'true';
}

export function svgEl(doc: Document, tag: string, attrs: Record<string, string>): SVGElement {
  const element = doc.createElementNS('http://www.w3.org/2000/svg', tag) as SVGElement;
  for (const [k, v] of Object.entries(attrs)) {
    element.setAttribute(k, v);
  }
  return element;
}

export function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
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

/** A value as short text: strings as they are, anything else as JSON. */
export function show(value: unknown): string {
  if (typeof value === 'string') {
    return value;
  }
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

/** The payload indexed for drawing: tasks, bindings and findings by task path. */
export interface IContext {
  doc: Document;
  el: Maker;
  payload: IPayload;
  byPath: Map<string, ITask>;
  /** The names of all tasks (to read channel names such as ``produce-Output``). */
  taskNames: Set<string>;
  bindings: Map<string, IBinding[]>;
  findings: Map<string, IFinding[]>;
  /** The IR once read (null until then, or when the payload has none): see documentsOf. */
  ir: IrSource;
  /** Why the IR could not be read, when it could not. */
  irError?: string;
}

export function makeContext(doc: Document, payload: IPayload): IContext {
  const byPath = new Map<string, ITask>();
  for (const task of payload.tasks) {
    if (!byPath.has(task.path)) {
      byPath.set(task.path, task);
    }
  }
  return {
    doc,
    el: maker(doc),
    payload,
    byPath,
    taskNames: new Set(payload.tasks.map(task => task.name)),
    bindings: groupBy(payload.bindings, b => String(b.task)),
    findings: groupBy(
      payload.findings.filter(f => f.task),
      f => String(f.task)
    ),
    ir: null
  };
}
