/** The bundle's URL under `root` (a folder URL ending in /), or null when the sources must be run. */
export function freshBundle(root: URL): URL | null;
