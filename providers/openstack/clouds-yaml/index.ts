/**
 * Reading OpenStack's own configuration: clouds.yaml, secure.yaml merged over it, and OS_*
 * variables, with sealed values opened. The public entry of this folder: src/config and the
 * registry (src/provider-adapters.ts) import from here, never from the files beside it.
 */
export { ENVIRONMENT, loadClouds, resolveCloud, type CloudEntryResult, type LoadCloudsOptions, type LoadedClouds } from './clouds.ts';
export type { CloudCredentials } from './credentials.ts';
export { NO_KEY, type UnsealFn } from './sealed.ts';
