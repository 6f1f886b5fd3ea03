/**
 * Cross-checks of the disk-image parts of nodepool.yaml (see ./cross-checks.ts for the rules they
 * follow): unique image names, parents that exist without a cycle, provider diskimages naming a
 * buildable image, and each pool label naming exactly one image it can boot.
 */
import { suggest, type Check } from './cross-checks.ts';
import { formatPath, type PathSegment } from './yaml-source.ts';

type Entry = { index: number; value: Record<string, unknown> };

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function entries(list: unknown): Entry[] {
  if (!Array.isArray(list)) return [];
  return list.flatMap((value, index) => (isRecord(value) ? [{ index, value }] : []));
}

const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

/** Top-level diskimages: parents and cycles. Names that repeat are reported by the caller's uniqueness check. */
export function checkDiskimages(root: Record<string, unknown>, { errors, echo }: Check): void {
  const images = entries(root.diskimages);
  const byName = new Map(images.flatMap((e) => (str(e.value.name) ? [[str(e.value.name)!, e] as const] : [])));
  for (const image of images) {
    const parent = str(image.value.parent);
    if (parent === undefined) continue;
    const path: PathSegment[] = ['diskimages', image.index, 'parent'];
    if (!byName.has(parent)) {
      errors.add(path, 'value', () => `parent ${echo.value(parent, path)} is not defined in diskimages${suggest(parent, [...byName.keys()], echo)}`);
      continue;
    }
    const chain = [str(image.value.name) ?? ''];
    const inChain = new Set(chain);
    let at: string | undefined = parent;
    while (at !== undefined && !inChain.has(at)) {
      chain.push(at);
      inChain.add(at);
      at = str(byName.get(at)?.value.parent);
    }
    if (at !== undefined) {
      const loop = [...chain, at];
      errors.add(path, 'value', () => `parent chain loops: ${loop.map((n) => (echo.sealed(n) ? echo.value(n) : n)).join(' → ')}`);
    }
  }
}

/** A provider's diskimages must name images that are built (defined and not abstract). */
export function checkProviderDiskimages(root: Record<string, unknown>, provider: Entry, { errors, echo }: Check): string[] {
  const buildable = entries(root.diskimages).filter((e) => e.value.abstract !== true).flatMap((e) => str(e.value.name) ?? []);
  const buildableSet = new Set(buildable);
  const abstract = new Set(entries(root.diskimages).filter((e) => e.value.abstract === true).flatMap((e) => str(e.value.name) ?? []));
  const names: string[] = [];
  for (const d of entries(provider.value.diskimages)) {
    const name = str(d.value.name);
    if (name === undefined) continue;
    names.push(name);
    const path: PathSegment[] = ['providers', provider.index, 'diskimages', d.index, 'name'];
    if (abstract.has(name)) errors.add(path, 'value', () => `diskimage ${echo.value(name, path)} is abstract: only other images can use it as parent`);
    else if (!buildableSet.has(name)) errors.add(path, 'value', () => `diskimage ${echo.value(name, path)} is not defined in diskimages${suggest(name, buildable, echo)}`);
  }
  return names;
}

/** A pool label boots exactly one of a cloud image and a diskimage, and the provider must list it. */
export function checkLabelImage(
  label: Record<string, unknown>, path: PathSegment[], providerPath: PathSegment[],
  cloudImages: string[], diskimages: string[], { errors, echo }: Check,
): void {
  const cloud = label['cloud-image'];
  const disk = label.diskimage;
  if (cloud !== undefined && disk !== undefined) {
    errors.add([...path, 'diskimage'], 'key', () => 'give either cloud-image or diskimage, not both');
    return;
  }
  if (cloud === undefined && disk === undefined) {
    errors.add(path, 'value', () => 'needs cloud-image or diskimage to choose an image');
    return;
  }
  if (typeof cloud === 'string' && !cloudImages.includes(cloud)) {
    const at = [...path, 'cloud-image'];
    errors.add(at, 'value', () => `cloud-image ${echo.value(cloud, at)} is not defined in ${formatPath([...providerPath, 'cloud-images'])}${suggest(cloud, cloudImages, echo)}`);
  }
  if (typeof disk === 'string' && !diskimages.includes(disk)) {
    const at = [...path, 'diskimage'];
    errors.add(at, 'value', () => `diskimage ${echo.value(disk, at)} is not listed in ${formatPath([...providerPath, 'diskimages'])}${suggest(disk, diskimages, echo)}`);
  }
}
