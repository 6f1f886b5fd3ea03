import { requestsInOrder } from './plan-claims.ts';
import type { Plan, PlanInput } from './plan-input.ts';
import { leaks } from './plan-leaks.ts';
import { minReady } from './plan-min-ready.ts';
import { nodeLifecycles } from './plan-nodes.ts';
import { registerServers } from './plan-register.ts';
import { PlanPass } from './plan-pass.ts';

/**
 * The reconcile planner (DESIGN promise 7): a pure function of (store snapshot, cloud view,
 * configuration, now) that returns the actions to take and when to look again. It never
 * performs I/O; ./apply.ts carries the actions out with conditional store writes, so a plan made
 * on a stale snapshot can only fail to apply, never do harm. It is the only place that decides
 * whether a failed launch is retried, moved or failed (./plan-failures.ts).
 */

export type { Action, FailureEvidence, LaunchFailure } from './actions.ts';
export type { Plan, PlanInput, ProviderCloudView, ProviderConditions } from './plan-input.ts';
export { DELETE_RETRY_MS, FULFIL_GRACE_MS } from './plan-nodes.ts';

export function plan(input: PlanInput): Plan {
  const pass = new PlanPass(input);
  // Nodes first (failures and deletes free their slots), then nodes on free reusable servers,
  // then requests in order, then the pools' min-ready from what is left, then leaks.
  nodeLifecycles(pass);
  registerServers(pass);
  requestsInOrder(pass);
  minReady(pass);
  leaks(pass);
  return { actions: pass.actions, nextWakeAt: pass.nextWakeAt };
}
