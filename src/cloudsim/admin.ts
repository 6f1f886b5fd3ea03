/**
 * The simulator's own admin API, under `/<cloud>/sim/` (not an OpenStack API, so it sits apart
 * from the service prefixes): faults in force, what the cloud holds, call statistics, quotas and
 * the servers other users run. It needs no token, is never counted in the stats, and answers
 * while the cloud is offline, so a test or an operator can bring the cloud back.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { CloudControl } from './control.ts';
import { FaultSpecError } from './fault-plan.ts';
import { describeSpecError } from './fault-spec.ts';
import type { CloudState } from './state.ts';
import { UnknownFlavorError } from './unmanaged.ts';

const limit = z.number().int().min(-1);
const QuotaBodySchema = z.strictObject({
  compute: z.strictObject({ instances: limit.optional(), cores: limit.optional(), ram: limit.optional() }).optional(),
  network: z.strictObject({ floatingip: limit.optional(), port: limit.optional() }).optional(),
  volume: z.strictObject({ volumes: limit.optional(), gigabytes: limit.optional() }).optional(),
});
const UnmanagedBodySchema = z.strictObject({ count: z.number().int().min(1), flavor: z.string().optional() });

class BadBody extends Error {}

function json(request: FastifyRequest): unknown {
  const raw = typeof request.body === 'string' ? request.body : '';
  if (raw.trim() === '') return {};
  try {
    return JSON.parse(raw);
  } catch {
    throw new BadBody('the body is not JSON');
  }
}

function parse<S extends z.ZodType>(schema: S, request: FastifyRequest): z.infer<S> {
  const result = schema.safeParse(json(request));
  if (!result.success) throw new BadBody(describeSpecError(result.error));
  return result.data;
}

export function registerAdmin(app: FastifyInstance, clouds: Map<string, CloudState>): void {
  const controls = new Map([...clouds].map(([name, c]) => [name, new CloudControl(c)]));

  /** A route under `/<cloud>/sim`; bad bodies answer 400 `{"error": "<field>: <problem>"}`. */
  const route = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, fn: (c: CloudControl, request: FastifyRequest) => unknown) => {
    app.route({
      method,
      url: `/:cloud/sim${path}`,
      handler: async (request: FastifyRequest, reply: FastifyReply) => {
        const control = controls.get((request.params as { cloud: string }).cloud);
        if (!control) return reply.code(404).send({ error: 'no such cloud' });
        try {
          const out = await fn(control, request);
          if (out === undefined) return reply.code(204).send();
          return reply.code(method === 'POST' && path === '/unmanaged-servers' ? 201 : 200).send(out);
        } catch (err) {
          if (err instanceof BadBody || err instanceof FaultSpecError || err instanceof UnknownFlavorError) {
            return reply.code(400).send({ error: err.message });
          }
          throw err;
        }
      },
    });
  };

  route('GET', '/faults', (c) => c.faults());
  route('POST', '/faults', (c, r) => c.setFaults(json(r)));
  route('PATCH', '/faults', (c, r) => c.patchFaults(json(r)));
  route('DELETE', '/faults', async (c) => {
    await c.setFaults({});
  });
  route('GET', '/inventory', (c) => c.inventory());
  route('GET', '/stats', (c) => ({ ...c.stats(), injected: c.injected(), held: c.heldCalls() }));
  route('DELETE', '/stats', (c) => c.resetStats());
  route('GET', '/quotas', (c) => c.quotas());
  route('POST', '/quotas', (c, r) => {
    const q = parse(QuotaBodySchema, r);
    if (q.compute) c.setQuota(q.compute);
    if (q.network) c.setNetworkQuota(q.network);
    if (q.volume) c.setVolumeQuota(q.volume);
    return c.quotas();
  });
  route('POST', '/unmanaged-servers', (c, r) => {
    const b = parse(UnmanagedBodySchema, r);
    return { ids: c.addUnmanagedServers(b.count, b.flavor) };
  });
}
