/**
 * A secret binding in words and as a badge: its kind (env, volume, image pull) and where its
 * name comes from (literal, parameter, task output, loop item).
 */
import { IContext, P } from './dom';
import { IBinding, ISource } from './types';

const BINDING_LABEL: Record<string, string> = { env: 'env', volume: 'vol', 'image-pull': 'pull' };
const BINDING_TITLE: Record<string, string> = {
  env: 'secret as environment variables',
  volume: 'secret as a volume',
  'image-pull': 'image pull secret'
};
const SOURCE_TITLE: Record<string, string> = {
  literal: 'a literal name',
  parameter: 'a pipeline parameter',
  'task-output': 'an upstream task output',
  'loop-item': 'a loop item',
  unresolved: 'unresolved'
};

/** Where a binding's secret name comes from, in words, with the DAG inputs it passes, outermost first. */
export function describeSource(binding: IBinding): string {
  const source = binding.source;
  if (!source) {
    return 'unknown';
  }
  const what = SOURCE_TITLE[source.kind] ?? source.kind;
  const text = source.text ? `${source.text} (${what})` : what;
  const via = (source.via ?? []).filter((name, i, all) => i === 0 || name !== all[i - 1]).reverse();
  return via.length ? `${text}, via ${via.join(' \u2192 ')}` : text;
}

/** The secret name in short: ``db-creds``, ``{{secret_name}}``, ``{{produce.Output}}``, ``item of {{names}}``. */
export function shortName(source: ISource | undefined): string {
  switch (source?.kind) {
    case 'literal':
      return source.name ?? '?';
    case 'parameter':
      return `{{${source.parameter ?? '?'}}}`;
    case 'task-output':
      return `{{${source.task ?? '?'}.${source.output ?? '?'}}}`;
    case 'loop-item':
      return `item of ${shortName(source.items)}`;
    default:
      return '?';
  }
}

/** Where the secret lands: ``KEY → ENV`` pairs, the mount path, or ``image pull``. */
export function bindingTarget(binding: IBinding): string {
  if (binding.kind === 'env') {
    return (binding.env ?? []).map(e => `${e.secretKey} \u2192 ${e.envVar}`).join(', ');
  }
  if (binding.kind === 'volume') {
    return binding.mountPath ?? '';
  }
  return binding.kind === 'image-pull' ? 'image pull' : '';
}

/** The secret name, or the template it comes from. */
export function secretName(binding: IBinding): string {
  const source = binding.source;
  if (source?.kind === 'literal' && source.name !== undefined) {
    return source.name;
  }
  return source?.text ?? binding.reference ?? '?';
}

/** The badge of one binding: its kind and the secret name (styled by where it comes from); the hover says more. */
export function badge(ctx: IContext, binding: IBinding): HTMLElement {
  const kind = binding.kind;
  const source = binding.source?.kind ?? 'unresolved';
  const b = ctx.el('span', `${P}-badge ${P}-badge--${kind} ${P}-src--${source}`);
  b.append(
    ctx.el('span', `${P}-badge-kind`, BINDING_LABEL[kind] ?? kind),
    ctx.el('span', `${P}-badge-src`, shortName(binding.source))
  );
  const optional = binding.optional ? ', optional' : '';
  b.title = `${BINDING_TITLE[kind] ?? kind}${optional}: ${secretName(binding)} from ${
    SOURCE_TITLE[source] ?? source
  }`;
  return b;
}
