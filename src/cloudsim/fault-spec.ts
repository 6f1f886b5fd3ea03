/**
 * The shape of a cloud's injected faults: one zod schema, read from `createCloudSim` options,
 * `nodepool cloud-sim --faults FILE` and the admin endpoint `POST /<cloud>/sim/faults`, so the
 * three say the same thing the same way. Rates are probabilities drawn from the cloud's seeded
 * generator, so a run with the same seed and the same calls fails the same calls.
 */
import { z } from 'zod';

const rate = z.number().min(0).max(1);

/** What an unlucky call gets: a status in the service's own error shape, its quota refusal, or no answer. */
export const CallAnswerSchema = z
  .union([z.literal(500), z.literal(503), z.literal(429), z.enum(['quota', 'reset', 'timeout'])])
  .describe('500, 503, 429 (with Retry-After), quota (Nova 403, Neutron 409 OverQuota, Cinder 413), reset (connection reset) or timeout (never answered)');
export type CallAnswer = z.infer<typeof CallAnswerSchema>;

/** Which calls a rule applies to; every field left out matches any call. */
const matchFields = {
  service: z.enum(['keystone', 'nova', 'glance', 'neutron', 'cinder']).optional().describe('The service called.'),
  method: z.string().transform((m) => m.toUpperCase()).optional().describe('HTTP method.'),
  route: z.string().optional().describe('The route as stats name it, e.g. `/servers/{id}` or `/v2.0/floatingips`.'),
  path: z
    .string()
    .refine((p) => {
      try {
        new RegExp(p);
        return true;
      } catch {
        return false;
      }
    }, 'must be a regular expression')
    .optional()
    .describe('Regular expression tested against the path below the cloud prefix, e.g. `/compute/v2.1/servers$`.'),
};

export const ErrorRuleSchema = z.strictObject({
  ...matchFields,
  rate: rate.describe('Probability that a matching call fails.'),
  answer: z.union([CallAnswerSchema, z.array(CallAnswerSchema).min(1)]).default(500)
    .describe('The failure, or a list to pick one from at random.'),
  retryAfterSeconds: z.number().int().min(0).default(1).describe('Retry-After of a 429.'),
});

export const LatencyRuleSchema = z.strictObject({
  ...matchFields,
  ms: z.number().min(0).describe('Added before the call is answered.'),
  jitterMs: z.number().min(0).default(0).describe('Up to this much more, at random.'),
});

export const BootFaultSchema = z.union([
  z.enum(['no-valid-host', 'quota']),
  z.strictObject({ code: z.number().int(), message: z.string() }),
]);

export const FaultSpecSchema = z.strictObject({
  seed: z.number().int().optional().describe('Seed of the generator the rates draw from; random when absent.'),
  errors: z.array(ErrorRuleSchema).default([]).describe('API calls that fail; the first matching rule that fires wins.'),
  latency: z.array(LatencyRuleSchema).default([]).describe('Added latency; every matching rule adds its own.'),
  boots: z.strictObject({
    errorRate: rate.default(0).describe('Share of accepted boots that end in ERROR with `fault`.'),
    fault: BootFaultSchema.default('no-valid-host').describe('no-valid-host (code 500), quota (the recheck 413) or {code, message}.'),
    hangRate: rate.default(0).describe('Share of accepted boots that stay in BUILD for ever.'),
  }).optional(),
  deletes: z.strictObject({
    delayMs: z.number().min(0).optional().describe('Time from DELETE to DELETED (slow deletes); the cloud default when absent.'),
    stuckRate: rate.default(0).describe('Share of accepted server deletes that stay in task_state deleting for ever.'),
  }).optional(),
  offline: z.union([z.literal(false), z.enum(['reset', 'timeout'])]).default(false)
    .describe('The whole cloud: every connection reset, or every call left unanswered.'),
  leakPorts: z.union([z.boolean(), rate]).default(false)
    .describe('Share of deleted servers whose ports stay behind, DOWN (true = all).'),
});

/** What a caller writes (defaults may be left out). */
export type FaultSpec = z.input<typeof FaultSpecSchema>;
/** What is in force (defaults filled in). */
export type FaultSettings = z.output<typeof FaultSpecSchema>;
export type ErrorRule = z.output<typeof ErrorRuleSchema>;
export type LatencyRule = z.output<typeof LatencyRuleSchema>;

/** The first problem of an invalid spec, naming the field (`errors.0.rate: ...`). */
export function describeSpecError(err: z.ZodError): string {
  const issue = err.issues[0];
  const where = issue?.path.length ? issue.path.join('.') : '(spec)';
  return `${where}: ${issue?.message ?? 'invalid'}`;
}

export const UnmanagedServersSchema = z.union([
  z.number().int().min(0),
  z.strictObject({ count: z.number().int().min(0), flavor: z.string().optional() }),
]).describe('Servers other users of the project run there: a count, or {count, flavor} (default flavor: the smallest).');

/** One cloud's entry in a faults file: its faults, and the servers other users run there. */
export const CloudFaultsSchema = FaultSpecSchema.extend({ unmanagedServers: UnmanagedServersSchema.optional() });
export type CloudFaults = z.output<typeof CloudFaultsSchema>;

const rawSpec = z.record(z.string(), z.unknown());

/**
 * A faults file (`nodepool cloud-sim --faults FILE`): faults for every cloud under `default`,
 * and per cloud under `clouds.<name>`, whose top-level keys replace the default's (an entry
 * with `errors` replaces the default's errors, one without keeps them).
 */
export const FaultsFileSchema = z.strictObject({
  default: rawSpec.optional(),
  clouds: z.record(z.string(), rawSpec).default({}),
});

/** The faults of one cloud named in a faults file, validated; throws an Error naming the field. */
export function faultsForCloud(file: unknown, cloud: string): CloudFaults {
  const parsed = FaultsFileSchema.safeParse(file ?? {});
  if (!parsed.success) throw new Error(`faults file: ${describeSpecError(parsed.error)}`);
  const merged = { ...parsed.data.default, ...parsed.data.clouds[cloud] };
  const result = CloudFaultsSchema.safeParse(merged);
  if (!result.success) throw new Error(`faults file, cloud ${cloud}: ${describeSpecError(result.error)}`);
  return result.data;
}

/** Top-level keys of `patch` replace those of `base`; a key set to null is removed. */
export function mergeSpec(base: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = v;
  }
  return out;
}
