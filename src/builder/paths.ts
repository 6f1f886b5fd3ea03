import { join } from 'node:path';
import type { BuilderConfig } from '../config/types.ts';

/** diskimage-builder's file extension for each output format (`-t`), as it names its outputs. */
const EXTENSIONS: Record<string, string> = {
  qcow2: 'qcow2', raw: 'raw', vhd: 'vhd', vmdk: 'vmdk', tar: 'tar', 'tgz': 'tgz', squashfs: 'squash', docker: 'docker',
  'aci': 'aci', 'qcow2-compressed': 'qcow2',
};

export function extensionOf(format: string): string {
  return EXTENSIONS[format] ?? format;
}

/** `<images-dir>/<image>-<build id>`: the `-o` of the build command; outputs add `.<ext>`. */
export function outputBase(cfg: BuilderConfig, image: string, buildId: string): string {
  return join(cfg.imagesDir, `${image}-${buildId}`);
}

export function outputFile(cfg: BuilderConfig, image: string, buildId: string, format: string): string {
  return `${outputBase(cfg, image, buildId)}.${extensionOf(format)}`;
}

export function buildLogPath(cfg: BuilderConfig, image: string, buildId: string): string {
  return join(cfg.buildLogDir, `${image}-${buildId}.log`);
}

/** Glance's disk_format for an output format. */
export function diskFormatOf(format: string): string {
  return format === 'qcow2-compressed' ? 'qcow2' : format === 'tar' ? 'raw' : format;
}
