/**
 * Rules that span entries of nodepool.yaml, which a schema of each entry alone cannot express:
 * unique names, a pool label naming a defined label and cloud image, exactly one way to pick a
 * flavor.
 *
 * They read the plain YAML data, not the schema's output, so that they still run when the schema
 * found problems elsewhere: an operator gets every problem in one pass. Anything of the wrong shape
 * is skipped here; the schema reports it.
 */
import { IGNORED_KEYS } from './schema.ts';
import { checkDiskimages, checkLabelImage, checkProviderDiskimages } from './diskimage-checks.ts';
import { checkStaticProvider } from './static-checks.ts';
import { echoFor, type Echo } from './echo.ts';
import { MAX_ISSUES } from './errors.ts';
import { closest } from './zod-issues.ts';
import type { PathSegment } from './yaml-source.ts';

export interface Finding {
  path: PathSegment[];
  /** Report at the mapping key (a duplicate, a key that should not be there) or at the value. */
  at: 'key' | 'value';
  message: string;
  /** The earlier entry a duplicate clashes with; its line is added to the message. */
  firstAt?: PathSegment[];
}

/**
 * Findings kept up to a cap and counted past it. The message is made only for a finding that is
 * kept, so that 10^5 wrong names do not cost 10^5 "did you mean" searches.
 */
export class Findings {
  readonly list: Finding[] = [];
  total = 0;
  constructor(readonly cap = MAX_ISSUES) {}

  add(path: PathSegment[], at: Finding['at'], message: () => string, firstAt?: PathSegment[]): void {
    this.total++;
    if (this.list.length < this.cap) this.list.push({ path, at, message: message(), ...(firstAt ? { firstAt } : {}) });
  }
}

export interface CrossCheckResult {
  errors: Findings;
  warnings: Findings;
}

type Entry = { index: number; value: Record<string, unknown> };

function entries(list: unknown): Entry[] {
  if (!Array.isArray(list)) return [];
  return list.flatMap((value, index) => (isRecord(value) ? [{ index, value }] : []));
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function nameOf(e: Entry): string | undefined {
  return typeof e.value.name === 'string' ? e.value.name : undefined;
}

/** Every rule over the plain data; names are shown through `echo`, so no message repeats an opened sealed value. */
export function crossCheck(data: unknown, echo: Echo = echoFor()): CrossCheckResult {
  const errors = new Findings();
  const warnings = new Findings();
  const root = isRecord(data) ? data : {};
  const check: Check = { errors, echo };

  const labels = entries(root.labels);
  uniqueNames(labels, ['labels'], 'label', check);
  const labelNames = labels.flatMap((l) => nameOf(l) ?? []);
  const labelSet = new Set(labelNames);

  const providers = entries(root.providers);
  uniqueNames(providers, ['providers'], 'provider', check);
  uniqueNames(entries(root.diskimages), ['diskimages'], 'diskimage', check);
  checkDiskimages(root, check);

  const served = new Set<string>();
  for (const provider of providers) {
    const providerPath: PathSegment[] = ['providers', provider.index];
    if (provider.value.driver === 'static') {
      uniqueNames(entries(provider.value.pools), [...providerPath, 'pools'], 'pool', check);
      const suggestLabel = (name: string) => suggest(name, labelNames, echo);
      for (const label of checkStaticProvider(provider, providerPath, { labelSet, suggest: suggestLabel }, check)) served.add(label);
      continue;
    }
    const images = entries(provider.value['cloud-images']);
    uniqueNames(images, [...providerPath, 'cloud-images'], 'cloud-image', check);
    for (const image of images) {
      if ('image-name' in image.value && 'image-id' in image.value) {
        errors.add([...providerPath, 'cloud-images', image.index, 'image-id'], 'key', () => 'give either image-name or image-id, not both');
      }
    }
    const imageNames = images.flatMap((i) => nameOf(i) ?? []);
    uniqueNames(entries(provider.value.diskimages), [...providerPath, 'diskimages'], 'diskimage', check);
    const diskimageNames = checkProviderDiskimages(root, provider, check);

    const pools = entries(provider.value.pools);
    uniqueNames(pools, [...providerPath, 'pools'], 'pool', check);
    for (const pool of pools) {
      const poolPath = [...providerPath, 'pools', pool.index];
      const poolLabels = entries(pool.value.labels);
      uniqueNames(poolLabels, [...poolPath, 'labels'], 'label', check, 'in this pool');
      for (const label of poolLabels) {
        const labelPath = [...poolPath, 'labels', label.index];
        checkPoolLabel(label.value, labelPath, { labelNames, labelSet, imageNames, diskimageNames }, providerPath, check);
        const name = nameOf(label);
        if (name) served.add(name);
      }
    }
  }

  for (const label of labels) {
    const name = nameOf(label);
    if (name && !served.has(name)) {
      const path = ['labels', label.index, 'name'];
      warnings.add(path, 'value', () => `label ${echo.value(name, path)} is not served by any pool: requests for it will fail`);
    }
  }

  // A simulated cloud that no provider names is most likely a misspelling of one a provider names.
  const simulated = isRecord(root['cloud-sim']) && Array.isArray(root['cloud-sim'].clouds) ? root['cloud-sim'].clouds : [];
  const named = providers.flatMap((p) => (typeof p.value.cloud === 'string' ? [p.value.cloud] : []));
  simulated.forEach((cloud, i) => {
    if (typeof cloud === 'string' && !named.includes(cloud)) {
      const path = ['cloud-sim', 'clouds', i];
      warnings.add(path, 'value', () => `no provider names cloud ${echo.value(cloud, path)}${suggest(cloud, named, echo)}`);
    }
  });

  for (const path of ignoredKeysPresent(root)) {
    warnings.add(path, 'key', () => 'accepted for compatibility with Nodepool but has no effect yet');
  }
  return { errors, warnings };
}

/** What a rule reports to: the findings, and how it shows the values it names. */
export interface Check {
  errors: Findings;
  echo: Echo;
}

interface KnownNames {
  labelNames: string[];
  labelSet: Set<string>;
  imageNames: string[];
  diskimageNames: string[];
}

function checkPoolLabel(label: Record<string, unknown>, path: PathSegment[], known: KnownNames, providerPath: PathSegment[], check: Check): void {
  const { errors, echo } = check;
  const name = label.name;
  if (typeof name === 'string' && !known.labelSet.has(name)) {
    const at = [...path, 'name'];
    errors.add(at, 'value', () => `label ${echo.value(name, at)} is not defined in labels${suggest(name, known.labelNames, echo)}`);
  }
  checkLabelImage(label, path, providerPath, known.imageNames, known.diskimageNames, check);
  const hasFlavor = 'flavor-name' in label;
  const hasMinRam = 'min-ram' in label;
  if (hasFlavor && hasMinRam) {
    errors.add([...path, 'min-ram'], 'key', () => 'give either flavor-name or min-ram, not both');
  } else if (!hasFlavor && !hasMinRam) {
    errors.add(path, 'value', () => 'needs flavor-name or min-ram to choose a flavor');
  }
}

/** Every entry after the first of the same name is an error, at its `name`. */
function uniqueNames(list: Entry[], listPath: PathSegment[], what: string, check: Check, scope = ''): void {
  const first = new Map<string, number>();
  for (const e of list) {
    const name = nameOf(e);
    if (name === undefined) continue;
    const seen = first.get(name);
    if (seen === undefined) {
      first.set(name, e.index);
      continue;
    }
    const path = [...listPath, e.index, 'name'];
    check.errors.add(path, 'value', () => `${what} ${check.echo.value(name, path)} is defined twice${scope ? ` ${scope}` : ''}`, [...listPath, seen, 'name']);
  }
}

/**
 * A likely intended name, else the few names there are to choose from. Past 1,000 names the
 * search would cost more than it helps (edit distance to each), and none is offered.
 */
export function suggest(word: string, known: string[], echo: Echo): string {
  const hint = known.length <= 1000 ? closest(word, known) : undefined;
  if (hint) return ` (did you mean ${echo.value(hint)}?)`;
  if (known.length === 0) return ' (none are defined)';
  return known.length <= 8 ? ` (defined: ${echo.names(known)})` : '';
}

/** Paths of the keys listed in IGNORED_KEYS that this document sets; `*` is any list entry. */
function ignoredKeysPresent(root: Record<string, unknown>): PathSegment[][] {
  const found: PathSegment[][] = [];
  const visit = (value: unknown, pattern: readonly string[], path: PathSegment[]): void => {
    const [head, ...rest] = pattern;
    if (head === '*') {
      for (const e of entries(value)) visit(e.value, rest, [...path, e.index]);
    } else if (isRecord(value) && head in value) {
      if (rest.length === 0) found.push([...path, head]);
      else visit(value[head], rest, [...path, head]);
    }
  };
  for (const pattern of IGNORED_KEYS) visit(root, pattern, []);
  return found;
}
