import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createOpenStackProvider, type OpenStackProvider } from '../../providers/openstack/index.ts';
import { Builder, type BuilderOptions } from '../../src/builder/builder.ts';
import { createCloudSim, type CloudSim } from '../../src/cloudsim/index.ts';
import { loadConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/types.ts';
import { silentLogger } from '../../src/log.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import type { Store, StoreEvent } from '../../src/store/store.ts';
import { simCredentials } from '../unit/openstack-sim-support.ts';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The stand-in for disk-image-create that the example configuration uses: real qcow2 files from qemu-img. */
export const PLACEHOLDER_DIB = join(ROOT, 'images/bin/placeholder-image');

/** Resolves when `check` holds, re-checked at every store change (no polling); rejects after `ms`. */
export function until<T>(store: Store, what: string, check: () => Promise<T | null | undefined | false>, ms = 15_000): Promise<T> {
  return new Promise((resolve, reject) => {
    let done = false;
    let running = false;
    let again = false;
    const finish = (err: Error | null, v?: T) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      off();
      if (err) reject(err); else resolve(v as T);
    };
    const run = async () => {
      if (running) { again = true; return; }
      running = true;
      try {
        do {
          again = false;
          const v = await check();
          if (v) return finish(null, v);
        } while (again && !done);
      } catch (err) {
        finish(err as Error);
      } finally {
        running = false;
      }
    };
    const timer = setTimeout(() => finish(new Error(`timed out waiting for ${what}`)), ms);
    const off = store.subscribe((_e: StoreEvent) => { void run(); });
    void run();
  });
}

/**
 * Two simulated clouds (`east`, `west`) using one diskimage built by the placeholder dib-cmd, a
 * store on disk, and a builder that is not started yet. `extra` is YAML added to the diskimage.
 */
export async function imageWorld(o: {
  extra?: string; ssh?: boolean; builder?: Partial<BuilderOptions>; dibCmd?: string; elements?: string[]; release?: string;
} = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'np-img-'));
  const sim: CloudSim = await createCloudSim({
    clouds: ['east', 'west'].map((name) => ({ name, ssh: o.ssh ?? false, bootDelayMs: 50, deleteDelayMs: 20 })),
  });
  writeFileSync(join(dir, 'nodepool.yaml'), `
labels: [{name: jammy}]
providers:
${['east', 'west'].map((p) => `  - name: ${p}
    driver: openstack
    cloud: ${p}
    diskimages: [{name: jammy}]
    pools: [{name: main, max-servers: 4, networks: [private], labels: [{name: jammy, flavor-name: m1.small, diskimage: jammy}]}]`).join('\n')}
diskimages:
  - name: jammy
    elements: [${(o.elements ?? ['ubuntu-minimal', 'vm', 'nodepool-base']).join(', ')}]
    dib-cmd: ${o.dibCmd ?? PLACEHOLDER_DIB}
    release: ${o.release ?? 'jammy'}
${(o.extra ?? '').split('\n').map((l) => `    ${l}`).join('\n')}
elements-dir: ${join(ROOT, 'images/elements')}
images-dir: images
store: {path: np.sqlite}
`);
  const config: Config = loadConfig(join(dir, 'nodepool.yaml'));
  const store = new SqliteStore(join(dir, 'np.sqlite'));
  const adapters = new Map<string, OpenStackProvider>(['east', 'west'].map((p) => [p, createOpenStackProvider({ name: p, credentials: simCredentials(sim, p) })]));
  const builder = new Builder({
    config, store, adapters, logger: silentLogger(), name: 'test-builder',
    // Status checks every few ms, backoff from 100 ms, and schedules that never fire during a test.
    sleep: (ms, signal) => new Promise((resolve, reject) => {
      const t = setTimeout(resolve, Math.min(ms, 20));
      signal.addEventListener('abort', () => { clearTimeout(t); reject(signal.reason); }, { once: true });
    }),
    uploadBackoffMs: 100, checkSchedule: '0 0 1 1 *', leakSchedule: '0 0 1 1 *', ...o.builder,
  });
  return {
    dir, sim, config, store, adapters, builder,
    async close() {
      await builder.stop();
      for (const a of adapters.values()) await a.close();
      await store.close();
      await sim.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
