/**
 * Cross-checks of the disk-image parts of nodepool.yaml (see ./cross-checks.ts for the rules they
 * follow): unique image names, parents that exist without a cycle, provider diskimages naming a
 * buildable image, and each pool label naming exactly one image it can boot.
 */
import type { Finding } from './cross-checks.ts';
import { formatPath, type PathSegment } from './yaml-source.ts';
import { closest } from './zod-issues.ts';

type Entry = { index: number; value: Record<string, unknown> };

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function entries(list: unknown): Entry[] {
  if (!Array.isArray(list)) return [];
  return list.flatMap((value, index) => (isRecord(value) ? [{ index, value }] : []));
}

const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

function hint(word: string, known: string[]): string {
  const h = closest(word, known);
  if (h) return ` (did you mean "${h}"?)`;
  return known.length === 0 ? ' (none are defined)' : known.length <= 8 ? ` (defined: ${known.join(', ')})` : '';
}

/** Top-level diskimages: parents and cycles. Names that repeat are reported by the caller's uniqueness check. */
export function checkDiskimages(root: Record<string, unknown>, errors: Finding[]): void {
  const images = entries(root.diskimages);
  const byName = new Map(images.flatMap((e) => (str(e.value.name) ? [[str(e.value.name)!, e] as const] : [])));
  for (const image of images) {
    const parent = str(image.value.parent);
    if (parent === undefined) continue;
    const path: PathSegment[] = ['diskimages', image.index, 'parent'];
    if (!byName.has(parent)) {
      errors.push({ path, at: 'value', message: `parent "${parent}" is not defined in diskimages${hint(parent, [...byName.keys()])}` });
      continue;
    }
    const chain = [str(image.value.name) ?? ''];
    let at: string | undefined = parent;
    while (at !== undefined && !chain.includes(at)) {
      chain.push(at);
      at = str(byName.get(at)?.value.parent);
    }
    if (at !== undefined) errors.push({ path, at: 'value', message: `parent chain loops: ${[...chain, at].join(' → ')}` });
  }
}

/** A provider's diskimages must name images that are built (defined and not abstract). */
export function checkProviderDiskimages(root: Record<string, unknown>, provider: Entry, errors: Finding[]): string[] {
  const buildable = entries(root.diskimages).filter((e) => e.value.abstract !== true).flatMap((e) => str(e.value.name) ?? []);
  const abstract = new Set(entries(root.diskimages).filter((e) => e.value.abstract === true).flatMap((e) => str(e.value.name) ?? []));
  const names: string[] = [];
  for (const d of entries(provider.value.diskimages)) {
    const name = str(d.value.name);
    if (name === undefined) continue;
    names.push(name);
    const path: PathSegment[] = ['providers', provider.index, 'diskimages', d.index, 'name'];
    if (abstract.has(name)) errors.push({ path, at: 'value', message: `diskimage "${name}" is abstract: only other images can use it as parent` });
    else if (!buildable.includes(name)) errors.push({ path, at: 'value', message: `diskimage "${name}" is not defined in diskimages${hint(name, buildable)}` });
  }
  return names;
}

/** A pool label boots exactly one of a cloud image and a diskimage, and the provider must list it. */
export function checkLabelImage(
  label: Record<string, unknown>, path: PathSegment[], providerPath: PathSegment[],
  cloudImages: string[], diskimages: string[], errors: Finding[],
): void {
  const cloud = label['cloud-image'];
  const disk = label.diskimage;
  if (cloud !== undefined && disk !== undefined) {
    errors.push({ path: [...path, 'diskimage'], at: 'key', message: 'give either cloud-image or diskimage, not both' });
    return;
  }
  if (cloud === undefined && disk === undefined) {
    errors.push({ path, at: 'value', message: 'needs cloud-image or diskimage to choose an image' });
    return;
  }
  if (typeof cloud === 'string' && !cloudImages.includes(cloud)) {
    errors.push({
      path: [...path, 'cloud-image'], at: 'value',
      message: `cloud-image "${cloud}" is not defined in ${formatPath([...providerPath, 'cloud-images'])}${hint(cloud, cloudImages)}`,
    });
  }
  if (typeof disk === 'string' && !diskimages.includes(disk)) {
    errors.push({
      path: [...path, 'diskimage'], at: 'value',
      message: `diskimage "${disk}" is not listed in ${formatPath([...providerPath, 'diskimages'])}${hint(disk, diskimages)}`,
    });
  }
}
