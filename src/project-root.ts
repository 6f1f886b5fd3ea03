/**
 * The project's root folder (where package.json is). This file sits one level below it, in src/,
 * as the bundle `nodepool` runs when it is built (dist/nodepool.mjs, bin/build.js) sits in dist/:
 * the same relative URL names the root from either.
 */
export const PROJECT_ROOT = new URL('../', import.meta.url);
