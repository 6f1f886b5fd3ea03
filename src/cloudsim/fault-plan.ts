/**
 * The faults in force in one cloud (see fault-spec.ts) and the seeded generator their rates draw
 * from. Every draw goes through one generator per cloud, in the order calls arrive, so a test
 * that makes the same calls in the same order with the same seed sees the same failures.
 * What was injected is counted, so a test can compare what it saw with what the cloud did.
 */
import { randomInt } from 'node:crypto';
import type { BootFault } from './types.ts';
import {
  FaultSpecSchema, describeSpecError, mergeSpec, type CallAnswer, type ErrorRule, type FaultSettings, type LatencyRule,
} from './fault-spec.ts';
import { NO_VALID_HOST } from './faults.ts';

/** A small, well-mixed 32-bit generator (mulberry32): enough for fault rates, and repeatable. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** A call as the rules see it. */
export interface CallInfo {
  service: string;
  method: string;
  /** Stats name of the route, e.g. `/servers/{id}`. */
  route: string;
  /** Path below the cloud prefix, without query. */
  path: string;
}

export interface InjectedCallFault {
  answer: CallAnswer;
  retryAfterSeconds: number;
}

/** The spec was not valid; `message` names the field. */
export class FaultSpecError extends Error {
  override name = 'FaultSpecError';
}

export class FaultPlan {
  private input: Record<string, unknown> = {};
  private settings: FaultSettings = FaultSpecSchema.parse({});
  private patterns = new Map<string, RegExp>();
  private random: () => number = Math.random;
  private seedInUse = 0;
  /** What was injected, by `service answer` (`nova 503`), `boot error`, `boot hang`, `delete stuck`, `port leak`. */
  readonly injected = new Map<string, number>();

  constructor(spec?: unknown) {
    this.set(spec ?? {});
  }

  /** Replaces every fault with `spec`; a seed in it restarts the generator. Throws FaultSpecError. */
  set(spec: unknown): FaultSettings {
    if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) throw new FaultSpecError('(spec): expected an object');
    const parsed = FaultSpecSchema.safeParse(spec);
    if (!parsed.success) throw new FaultSpecError(describeSpecError(parsed.error));
    const reseed = parsed.data.seed !== undefined || this.random === Math.random;
    this.input = { ...(spec as Record<string, unknown>) };
    this.settings = parsed.data;
    this.patterns = new Map(
      [...parsed.data.errors, ...parsed.data.latency].filter((r) => r.path !== undefined).map((r) => [r.path!, new RegExp(r.path!)]),
    );
    if (reseed) {
      this.seedInUse = parsed.data.seed ?? randomInt(2 ** 31);
      this.random = seededRandom(this.seedInUse);
    }
    return this.settings;
  }

  /** Top-level keys of `patch` replace the current ones (null removes one). Throws FaultSpecError. */
  patch(patch: unknown): FaultSettings {
    if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) throw new FaultSpecError('(spec): expected an object');
    return this.set(mergeSpec(this.input, patch as Record<string, unknown>));
  }

  /** The faults in force, with the seed the generator started from (to repeat a run). */
  view(): FaultSettings & { seed: number } {
    return { ...structuredClone(this.settings), seed: this.seedInUse };
  }

  get offline(): FaultSettings['offline'] {
    return this.settings.offline;
  }

  /** Sets only the offline mode (the control handle's setOffline), keeping every other fault. */
  setOffline(mode: FaultSettings['offline']): void {
    this.patch({ offline: mode });
  }

  /** The failure this call gets, if a rule fires. */
  callFault(call: CallInfo): InjectedCallFault | undefined {
    for (const rule of this.settings.errors) {
      if (!this.matches(rule, call) || !this.draw(rule.rate)) continue;
      const answers = Array.isArray(rule.answer) ? rule.answer : [rule.answer];
      const answer = answers.length === 1 ? answers[0] : answers[Math.floor(this.random() * answers.length)];
      this.count(`${call.service} ${answer}`);
      return { answer, retryAfterSeconds: rule.retryAfterSeconds };
    }
    return undefined;
  }

  /** Milliseconds to wait before answering this call. */
  latencyMs(call: CallInfo): number {
    let ms = 0;
    for (const rule of this.settings.latency) {
      if (this.matches(rule, call)) ms += rule.ms + (rule.jitterMs > 0 ? this.random() * rule.jitterMs : 0);
    }
    return ms;
  }

  /** A boot that fails or hangs by the rates; undefined lets it boot. */
  bootPlan(): { plan: 'fail'; fault: BootFault } | { plan: 'hang' } | undefined {
    const b = this.settings.boots;
    if (!b) return undefined;
    if (this.draw(b.errorRate)) {
      this.count('boot error');
      const fault = b.fault === 'no-valid-host' ? NO_VALID_HOST : b.fault === 'quota' ? QUOTA_RECHECK : b.fault;
      return { plan: 'fail', fault };
    }
    if (this.draw(b.hangRate)) {
      this.count('boot hang');
      return { plan: 'hang' };
    }
    return undefined;
  }

  /** Time from DELETE to DELETED when the faults slow deletes down. */
  deleteDelayMs(): number | undefined {
    return this.settings.deletes?.delayMs;
  }

  /** Whether this accepted delete stays in task_state deleting for ever. */
  deleteSticks(): boolean {
    const stuck = this.draw(this.settings.deletes?.stuckRate ?? 0);
    if (stuck) this.count('delete stuck');
    return stuck;
  }

  /** Whether the ports of this deleted server stay behind. */
  leaksPorts(): boolean {
    const r = this.settings.leakPorts;
    const leak = this.draw(r === true ? 1 : r === false ? 0 : r);
    if (leak) this.count('port leak');
    return leak;
  }

  private draw(rate: number): boolean {
    if (rate <= 0) return false;
    if (rate >= 1) return true;
    return this.random() < rate;
  }

  private matches(rule: ErrorRule | LatencyRule, call: CallInfo): boolean {
    return (!rule.service || rule.service === call.service)
      && (!rule.method || rule.method === call.method)
      && (!rule.route || rule.route === call.route)
      && (!rule.path || this.patterns.get(rule.path)!.test(call.path));
  }

  private count(what: string): void {
    this.injected.set(what, (this.injected.get(what) ?? 0) + 1);
  }
}

/** The conductor's quota recheck, as recorded (`nova-servers-show-200-error-quota-recheck`). */
export const QUOTA_RECHECK: BootFault = { code: 413, message: 'Quota exceeded for instances: Requested 1, but already used 1 of 1 instances' };
