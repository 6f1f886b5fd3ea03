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
import { closest } from './zod-issues.ts';
import { formatPath } from './yaml-source.ts';
import type { PathSegment } from './yaml-source.ts';

export interface Finding {
  path: PathSegment[];
  /** Report at the mapping key (a duplicate, a key that should not be there) or at the value. */
  at: 'key' | 'value';
  message: string;
  /** The earlier entry a duplicate clashes with; its line is added to the message. */
  firstAt?: PathSegment[];
}

export interface CrossCheckResult {
  errors: Finding[];
  warnings: Finding[];
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

export function crossCheck(data: unknown): CrossCheckResult {
  const errors: Finding[] = [];
  const warnings: Finding[] = [];
  const root = isRecord(data) ? data : {};

  const labels = entries(root.labels);
  uniqueNames(labels, ['labels'], 'label', errors);
  const labelNames = labels.flatMap((l) => nameOf(l) ?? []);

  const providers = entries(root.providers);
  uniqueNames(providers, ['providers'], 'provider', errors);
  uniqueNames(entries(root.diskimages), ['diskimages'], 'diskimage', errors);
  checkDiskimages(root, errors);

  const served = new Set<string>();
  for (const provider of providers) {
    const providerPath: PathSegment[] = ['providers', provider.index];
    const images = entries(provider.value['cloud-images']);
    uniqueNames(images, [...providerPath, 'cloud-images'], 'cloud-image', errors);
    for (const image of images) {
      if ('image-name' in image.value && 'image-id' in image.value) {
        errors.push({
          path: [...providerPath, 'cloud-images', image.index, 'image-id'],
          at: 'key',
          message: 'give either image-name or image-id, not both',
        });
      }
    }
    const imageNames = images.flatMap((i) => nameOf(i) ?? []);
    uniqueNames(entries(provider.value.diskimages), [...providerPath, 'diskimages'], 'diskimage', errors);
    const diskimageNames = checkProviderDiskimages(root, provider, errors);

    const pools = entries(provider.value.pools);
    uniqueNames(pools, [...providerPath, 'pools'], 'pool', errors);
    for (const pool of pools) {
      const poolPath = [...providerPath, 'pools', pool.index];
      const poolLabels = entries(pool.value.labels);
      uniqueNames(poolLabels, [...poolPath, 'labels'], 'label', errors, 'in this pool');
      for (const label of poolLabels) {
        const labelPath = [...poolPath, 'labels', label.index];
        checkPoolLabel(label.value, labelPath, labelNames, imageNames, diskimageNames, providerPath, errors);
        const name = nameOf(label);
        if (name) served.add(name);
      }
    }
  }

  for (const label of labels) {
    const name = nameOf(label);
    if (name && !served.has(name)) {
      warnings.push({
        path: ['labels', label.index, 'name'],
        at: 'value',
        message: `label "${name}" is not served by any pool: requests for it will fail`,
      });
    }
  }

  for (const path of ignoredKeysPresent(root)) {
    warnings.push({
      path,
      at: 'key',
      message: 'accepted for compatibility with Nodepool but has no effect yet',
    });
  }
  return { errors, warnings };
}

function checkPoolLabel(
  label: Record<string, unknown>,
  path: PathSegment[],
  labelNames: string[],
  imageNames: string[],
  diskimageNames: string[],
  providerPath: PathSegment[],
  errors: Finding[],
): void {
  if (typeof label.name === 'string' && !labelNames.includes(label.name)) {
    errors.push({
      path: [...path, 'name'],
      at: 'value',
      message: `label "${label.name}" is not defined in labels${suggest(label.name, labelNames)}`,
    });
  }
  checkLabelImage(label, path, providerPath, imageNames, diskimageNames, errors);
  const hasFlavor = 'flavor-name' in label;
  const hasMinRam = 'min-ram' in label;
  if (hasFlavor && hasMinRam) {
    errors.push({ path: [...path, 'min-ram'], at: 'key', message: 'give either flavor-name or min-ram, not both' });
  } else if (!hasFlavor && !hasMinRam) {
    errors.push({ path, at: 'value', message: 'needs flavor-name or min-ram to choose a flavor' });
  }
}

/** Every entry after the first of the same name is an error, at its `name`. */
function uniqueNames(list: Entry[], listPath: PathSegment[], what: string, errors: Finding[], scope = ''): void {
  const first = new Map<string, number>();
  for (const e of list) {
    const name = nameOf(e);
    if (name === undefined) continue;
    const seen = first.get(name);
    if (seen === undefined) {
      first.set(name, e.index);
      continue;
    }
    errors.push({
      path: [...listPath, e.index, 'name'],
      at: 'value',
      message: `${what} "${name}" is defined twice${scope ? ` ${scope}` : ''}`,
      firstAt: [...listPath, seen, 'name'],
    });
  }
}

/** A likely intended name, else the few names there are to choose from. */
function suggest(word: string, known: string[]): string {
  const hint = closest(word, known);
  if (hint) return ` (did you mean "${hint}"?)`;
  if (known.length === 0) return ' (none are defined)';
  return known.length <= 8 ? ` (defined: ${known.join(', ')})` : '';
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
