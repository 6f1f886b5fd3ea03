/**
 * Diskimages after inheritance: a `parent` passes every value down that its child does not set;
 * elements add up (the parent's first) and env-vars merge (the child's win), as in Nodepool. Then
 * the defaults. Abstract images are only parents and are left out. Cycles and unknown parents are
 * reported by ./cross-checks.ts before this runs.
 */
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import type { NodepoolYaml } from './schema.ts';
import type { BuilderConfig, DiskImageConfig, ProviderDiskImageConfig } from './diskimage-types.ts';

type YamlImage = NodepoolYaml['diskimages'][number];
type YamlProvider = Exclude<NodepoolYaml['providers'][number], { driver: 'static' }>;

export const DIB_DEFAULTS = {
  formats: ['qcow2'],
  rebuildAge: 86_400,
  buildTimeout: 28_800,
  dibCmd: 'disk-image-create',
  username: 'zuul',
};

/** The image with its parents' values folded in, nearest parent last. */
function flatten(image: YamlImage, byName: Map<string, YamlImage>, seen = new Set<string>()): YamlImage {
  if (!image.parent || seen.has(image.name)) return image;
  seen.add(image.name);
  const parentYaml = byName.get(image.parent);
  if (!parentYaml) return image;
  const parent = flatten(parentYaml, byName, seen);
  const merged: YamlImage = { ...parent, ...stripUndefined(image) };
  merged.elements = [...(parent.elements ?? []), ...(image.elements ?? [])];
  merged['env-vars'] = { ...parent['env-vars'], ...image['env-vars'] };
  merged.abstract = image.abstract;
  return merged;
}

export function resolveDiskimages(y: NodepoolYaml): DiskImageConfig[] {
  const byName = new Map(y.diskimages.map((d) => [d.name, d]));
  return y.diskimages.filter((d) => !d.abstract).map((d) => {
    const f = flatten(d, byName);
    const v = f.validation;
    return {
      name: d.name,
      elements: f.elements ?? [],
      envVars: f['env-vars'] ?? {},
      formats: f.formats?.length ? f.formats : DIB_DEFAULTS.formats,
      rebuildAge: f['rebuild-age'] ?? DIB_DEFAULTS.rebuildAge,
      buildTimeout: f['build-timeout'] ?? DIB_DEFAULTS.buildTimeout,
      dibCmd: f['dib-cmd'] ?? DIB_DEFAULTS.dibCmd,
      pause: f.pause ?? false,
      release: f.release,
      username: f.username ?? DIB_DEFAULTS.username,
      validation: v ? { command: v.command, timeout: v.timeout, privateKey: v['private-key'] } : undefined,
    };
  });
}

export function resolveBuilder(y: NodepoolYaml): BuilderConfig {
  return {
    elementsDir: y['elements-dir'],
    imagesDir: y['images-dir'],
    buildLogDir: y['build-log-dir'] ?? join(y['images-dir'], 'logs'),
    buildLogRetention: y['build-log-retention'],
  };
}

export function resolveProviderDiskimages(p: YamlProvider): ProviderDiskImageConfig[] {
  return p.diskimages.map((d) => ({ name: d.name, pause: d.pause, meta: d.meta, connectionPort: d['connection-port'] }));
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The builder's folders and the validation keys, relative ones taken from the configuration file's folder. */
export function diskimagePathsAt(c: { builder?: BuilderConfig; diskimages?: DiskImageConfig[] }, folder: string): {
  builder?: BuilderConfig; diskimages?: DiskImageConfig[];
} {
  const at = (p: string) => (isAbsolute(p) ? p : resolve(folder, p));
  const b = c.builder;
  return {
    builder: b && {
      ...b,
      // ELEMENTS_PATH may list several folders, as diskimage-builder reads it.
      elementsDir: b.elementsDir.split(':').map(at).join(':'),
      imagesDir: at(b.imagesDir),
      buildLogDir: at(b.buildLogDir),
    },
    diskimages: c.diskimages?.map((d) => {
      // A dib-cmd given as a relative path (`images/bin/...`) is the configuration's; a bare name is looked up in PATH.
      const [cmd, ...args] = d.dibCmd.trim().split(/\s+/);
      const dibCmd = cmd.includes('/') && !isAbsolute(cmd) ? [at(cmd), ...args].join(' ') : d.dibCmd;
      const key = d.validation?.privateKey;
      const validation = key && d.validation ? { ...d.validation, privateKey: at(key.replace(/^~(?=\/)/, homedir())) } : d.validation;
      return { ...d, dibCmd, validation };
    }),
  };
}
