/**
 * The shapes of the OpenStack answers this driver reads, one zod schema each, validated at the
 * boundary. Objects are loose: clouds add fields with every release and microversion (a 2.79
 * server has a dozen keys a 2.1 server lacks), and we only name what we use.
 */
import { z } from 'zod';
import { CloudError } from '../errors.ts';

// ---- Keystone v3 -------------------------------------------------------------------------

export const CatalogEndpointSchema = z.looseObject({
  interface: z.string(),
  url: z.string(),
  region_id: z.string().nullish(),
  region: z.string().nullish(),
});

export const CatalogServiceSchema = z.looseObject({
  type: z.string(),
  name: z.string().optional(),
  endpoints: z.array(CatalogEndpointSchema),
});
export type CatalogService = z.infer<typeof CatalogServiceSchema>;

export const TokenBodySchema = z.looseObject({
  token: z.looseObject({
    expires_at: z.string(),
    issued_at: z.string().optional(),
    methods: z.array(z.string()).optional(),
    project: z.looseObject({ id: z.string(), name: z.string().optional() }).optional(),
    catalog: z.array(CatalogServiceSchema).optional(),
  }),
});

// ---- Nova v2.1 ---------------------------------------------------------------------------

const LinkSchema = z.looseObject({ rel: z.string(), href: z.string() });

export const FlavorSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  vcpus: z.number(),
  ram: z.number(),
  disk: z.number(),
});
export const FlavorListSchema = z.looseObject({
  flavors: z.array(FlavorSchema),
  flavors_links: z.array(LinkSchema).optional(),
});

/** One entry of `addresses[<network name>]`; the OS-EXT-IPS type is absent on very old clouds. */
export const ServerAddressSchema = z.object({
  addr: z.string(),
  version: z.number(),
  'OS-EXT-IPS:type': z.string().nullish(),
});

export const ServerSchema = z.object({
  id: z.string(),
  name: z.string(),
  status: z.string(),
  metadata: z.record(z.string(), z.string()).nullish(),
  // Tags exist from 2.26; a 2.1 answer has none.
  tags: z.array(z.string()).nullish(),
  addresses: z.record(z.string(), z.array(ServerAddressSchema)).nullish(),
  accessIPv4: z.string().nullish(),
  accessIPv6: z.string().nullish(),
  'OS-EXT-STS:task_state': z.string().nullish(),
  'OS-EXT-AZ:availability_zone': z.string().nullish(),
  fault: z.looseObject({ code: z.number(), message: z.string() }).nullish(),
  created: z.string().nullish(),
  updated: z.string().nullish(),
});
export type NovaServer = z.infer<typeof ServerSchema>;

export const ServerBodySchema = z.looseObject({ server: ServerSchema });
export const ServerListSchema = z.looseObject({
  servers: z.array(ServerSchema),
  servers_links: z.array(LinkSchema).optional(),
});

/** The 202 answer to `POST /servers` is a stub: id and links, no status. */
export const ServerCreatedSchema = z.looseObject({
  server: z.looseObject({ id: z.string() }),
});

export const LimitsSchema = z.looseObject({
  limits: z.looseObject({
    absolute: z.looseObject({
      maxTotalInstances: z.number(),
      maxTotalCores: z.number(),
      maxTotalRAMSize: z.number(),
      totalInstancesUsed: z.number(),
      totalCoresUsed: z.number(),
      totalRAMUsed: z.number(),
    }),
  }),
});

// ---- Glance v2 ---------------------------------------------------------------------------

export const GlanceImageSchema = z.looseObject({
  id: z.string(),
  // Glance allows an image without a name.
  name: z.string().nullish(),
  status: z.string(),
  created_at: z.string().nullish(),
  // null until the data is uploaded.
  size: z.number().nullish(),
  checksum: z.string().nullish(),
  tags: z.array(z.string()).nullish(),
});
export type GlanceImage = z.infer<typeof GlanceImageSchema>;
export const GlanceImageListSchema = z.looseObject({
  images: z.array(GlanceImageSchema),
  next: z.string().optional(),
});

// ---- Neutron v2.0 ------------------------------------------------------------------------

export const NeutronNetworkSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  'router:external': z.boolean().optional(),
});
export const NeutronNetworkBodySchema = z.looseObject({ network: NeutronNetworkSchema });
export const NeutronNetworkListSchema = z.looseObject({
  networks: z.array(NeutronNetworkSchema),
  networks_links: z.array(LinkSchema).optional(),
});

// ---- Error bodies (one shape per service) ------------------------------------------------

/** Nova: `{"badRequest" | "forbidden" | "itemNotFound" | "overLimit" | ...: {code, message}}`. */
export const NovaFaultSchema = z.looseObject({ code: z.number().optional(), message: z.string() });
/** Keystone and keystonemiddleware (a 401 from any service): `{"error": {code, title, message}}`. */
export const KeystoneErrorSchema = z.looseObject({
  error: z.looseObject({ code: z.number().optional(), title: z.string().optional(), message: z.string() }),
});
/** Neutron: `{"NeutronError": {type, message, detail}}`; `type` is the exception class name. */
export const NeutronErrorSchema = z.looseObject({
  NeutronError: z.looseObject({ type: z.string(), message: z.string(), detail: z.string().optional() }),
});
/** Glance with `Accept: application/json`: `{message, code: "404 Not Found", title}`. */
export const GlanceErrorSchema = z.looseObject({ message: z.string(), code: z.string(), title: z.string().optional() });

export interface BodyContext {
  service: string;
  method: string;
  url: string;
  status?: number;
  requestId?: string;
}

/**
 * Validates an answer body. A cloud answering a shape we cannot read is not something a retry
 * fixes, so the failure is `fatal`, naming where the body differs.
 */
export function parseBody<S extends z.ZodType>(schema: S, data: unknown, ctx: BodyContext): z.infer<S> {
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  const issues = result.error.issues.slice(0, 3)
    .map((i) => `${i.path.length ? i.path.join('.') : '(body)'}: ${i.message}`)
    .join('; ');
  return failFatal(`${ctx.service} ${ctx.method} ${ctx.url}: unexpected answer body (${issues})`, ctx);
}

function failFatal(message: string, ctx: BodyContext): never {
  throw new CloudError({
    kind: 'fatal', message, status: ctx.status, service: ctx.service, method: ctx.method,
    url: ctx.url, requestId: ctx.requestId,
  });
}
