/** The compiled documents as YAML: the Kubernetes platform spec tab and the IR tab. */
import { dump } from 'js-yaml';

import { IContext, P, show } from './dom';

export function toYaml(value: unknown): string {
  try {
    return dump(value, { noRefs: true, lineWidth: 120, skipInvalid: true });
  } catch (error) {
    return `# cannot show as YAML: ${String(error)}\n${show(value)}`;
  }
}

/** Fills ``panel`` with the platform spec; without one, the secret entries by task. */
export function fillPlatformSpec(ctx: IContext, panel: HTMLElement): void {
  const { el, payload } = ctx;
  if (payload.platformSpec !== undefined) {
    panel.append(el('pre', `${P}-yaml`, toYaml(payload.platformSpec)));
    return;
  }
  panel.append(
    el('p', `${P}-muted`, 'This payload carries no platform spec (field "platformSpec"); the secret entries it holds, by task:'),
    el('pre', `${P}-yaml`, toYaml(Object.fromEntries(ctx.bindings)))
  );
}

/** Fills ``panel`` with the compiled IR as YAML documents; without it, the payload itself. */
export function fillIr(ctx: IContext, panel: HTMLElement): void {
  const { el, payload } = ctx;
  if (payload.ir !== undefined) {
    const docs = Array.isArray(payload.ir) ? payload.ir : [payload.ir];
    panel.append(el('pre', `${P}-yaml`, docs.map(toYaml).join('---\n')));
    return;
  }
  panel.append(
    el('p', `${P}-muted`, 'This payload carries no compiled IR (field "ir"); the payload itself:'),
    el('pre', `${P}-yaml`, toYaml(payload))
  );
}
