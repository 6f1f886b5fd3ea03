import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The OpenStack exchanges recorded on a real Zed cloud (test/fixtures/openstack-samples, its
 * README says how they were made): the ground truth the OpenStack driver's tests replay and the
 * simulator's answers are compared with.
 */

export const SAMPLES_DIR = join(import.meta.dirname, '../fixtures/openstack-samples');

export interface Sample {
  service: string;
  description: string;
  microversion: string | null;
  endpoint: string;
  request: { method: string; path: string; headers: Record<string, string>; body: unknown };
  response: { status: number; headers: Record<string, string>; body: any };
}

/** One recorded exchange by its file name (with or without `.json`). */
export function loadSample(name: string): Sample {
  return JSON.parse(readFileSync(join(SAMPLES_DIR, `${name.replace(/\.json$/, '')}.json`), 'utf8')) as Sample;
}

/** Every recorded exchange's name, sorted. */
export function sampleNames(): string[] {
  return readdirSync(SAMPLES_DIR).filter((f) => f.endsWith('.json')).map((f) => f.replace(/\.json$/, '')).sort();
}
