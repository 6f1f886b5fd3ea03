// Which code `nodepool` runs: the bundle bin/build.js made (dist/nodepool.mjs), if it is newer than
// every source it was built from (dist/nodepool.inputs.json); null when it is missing or stale.
import { readFileSync, statSync } from 'node:fs';

/** The bundle's URL under `root` (a folder URL ending in /), or null when the sources must be run. */
export function freshBundle(root) {
  const bundle = new URL('dist/nodepool.mjs', root);
  try {
    const built = statSync(bundle).mtimeMs;
    const inputs = JSON.parse(readFileSync(new URL('dist/nodepool.inputs.json', root), 'utf8'));
    return inputs.every((f) => statSync(new URL(f, root)).mtimeMs <= built) ? bundle : null;
  } catch {
    return null;
  }
}
