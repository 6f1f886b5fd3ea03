import { FakeProvider } from './adapter.ts';
import { FakeCloud, type FakeCloudOptions } from './cloud.ts';
import type { FakeDriverYaml } from './schema.ts';

export { FakeCloud, type FakeCloudOptions, type FakeFailure } from './cloud.ts';
export { FakeProvider } from './adapter.ts';
export { fakeDriverSchema, type FakeDriverYaml } from './schema.ts';

/**
 * The fake clouds of this process by their `cloud` name: providers that name the same cloud share
 * it (as two regions of one project would), and a test reaches a configured provider's cloud here.
 */
const clouds = new Map<string, FakeCloud>();

/** The process's fake cloud of that name, made with `options` the first time it is asked for. */
export function fakeCloud(name: string, options?: FakeCloudOptions): FakeCloud {
  let c = clouds.get(name);
  if (!c) {
    c = new FakeCloud(options);
    clouds.set(name, c);
  }
  return c;
}

/** Forgets every fake cloud of the process (between tests). */
export function resetFakeClouds(): void {
  clouds.clear();
}

/** The cloud options a provider's `fake:` block asks for. */
export function fakeCloudOptions(y: FakeDriverYaml): FakeCloudOptions {
  return {
    activeAfterLists: y['active-after-lists'], activeAfterMs: y['active-after'] === undefined ? undefined : y['active-after'] * 1000,
    goneAfterLists: y['gone-after-lists'], images: y.images, networks: y.networks,
    limits: { maxInstances: y['max-instances'], maxCores: y['max-cores'], maxRam: y['max-ram'] },
  };
}

/** The adapter of a provider with `driver: fake`. */
export function createFakeProvider(o: { name: string; cloud: string; options?: FakeCloudOptions }): FakeProvider {
  return new FakeProvider(o.name, fakeCloud(o.cloud, o.options));
}
