#!/usr/bin/env node
// The `nodepool` command. It runs the bundle `npm ci` builds (dist/nodepool.mjs, bin/build.js)
// while that is newer than every source it was built from; otherwise (a source edited since, or
// no build) it loads the TypeScript sources through tsx, so a clone runs without a build step.
import { freshBundle } from './bundle.js';

const bundle = freshBundle(new URL('../', import.meta.url));
let main;
if (bundle) {
  // Stack traces name the sources, not the bundle.
  process.setSourceMapsEnabled(true);
  ({ main } = await import(bundle.href));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/main.ts'));
}
await main(process.argv);
