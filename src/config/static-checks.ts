/**
 * The rules of a static provider (providers/static) that span entries: every label a host serves
 * is defined in `labels` (and counts as served), and a host (name and port) is listed once in its
 * provider, so one machine is never counted as two. They read the plain YAML data, like
 * ./cross-checks.ts.
 */
import type { Check } from './cross-checks.ts';
import type { PathSegment } from './yaml-source.ts';

type Entry = { index: number; value: Record<string, unknown> };

function entries(list: unknown): Entry[] {
  if (!Array.isArray(list)) return [];
  return list.flatMap((value, index) => (value !== null && typeof value === 'object' && !Array.isArray(value) ? [{ index, value: value as Record<string, unknown> }] : []));
}

export interface StaticLabelNames {
  labelSet: Set<string>;
  /** Tells what is defined when a name is not ("did you mean"). */
  suggest: (name: string) => string;
}

/** Checks one static provider's hosts; returns the labels they serve. */
export function checkStaticProvider(provider: Entry, providerPath: PathSegment[], known: StaticLabelNames, check: Check): string[] {
  const served: string[] = [];
  const hosts = new Map<string, PathSegment[]>();
  for (const pool of entries(provider.value.pools)) {
    for (const node of entries(pool.value.nodes)) {
      const nodePath: PathSegment[] = [...providerPath, 'pools', pool.index, 'nodes', node.index];
      const labels = typeof node.value.labels === 'string' ? [node.value.labels] : Array.isArray(node.value.labels) ? node.value.labels : [];
      labels.forEach((label, i) => {
        if (typeof label !== 'string') return;
        served.push(label);
        if (known.labelSet.has(label)) return;
        const at = typeof node.value.labels === 'string' ? [...nodePath, 'labels'] : [...nodePath, 'labels', i];
        check.errors.add(at, 'value', () => `label ${check.echo.value(label, at)} is not defined in labels${known.suggest(label)}`);
      });
      const name = node.value.name;
      if (typeof name !== 'string') continue;
      const port = typeof node.value['connection-port'] === 'number' ? node.value['connection-port'] : 22;
      const key = `${name}:${port}`;
      const first = hosts.get(key);
      const at = [...nodePath, 'name'];
      if (first) {
        check.errors.add(at, 'value', () => `host ${check.echo.value(name, at)} port ${port} is listed twice in this provider (use max-parallel-jobs for more jobs at once)`, first);
      } else hosts.set(key, at);
    }
  }
  return served;
}
