/**
 * Sizes of the heavy multi-process tests: what fits in every `npm test` run, and the full sizes
 * of `npm run test:soak` (NODEPOOL_TEST_SOAK=1, set by `test/run.ts --soak`).
 */
export const SOAK = process.env.NODEPOOL_TEST_SOAK === '1';

/** `quick` in `npm test`, `full` in `npm run test:soak`. */
export function soakSize(quick: number, full: number): number {
  return SOAK ? full : quick;
}
