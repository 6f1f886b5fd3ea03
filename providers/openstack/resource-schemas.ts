/**
 * The shapes of Neutron floating IPs and ports and of Cinder volumes, as this driver reads them
 * (loose objects, like the other schemas: only what we use is named). The recorded answers
 * (`neutron-floatingips-*`, `neutron-ports-*`) and the Cinder v3 API reference are their source.
 */
import { z } from 'zod';

const LinkSchema = z.looseObject({ rel: z.string(), href: z.string() });

// ---- Neutron v2.0 ------------------------------------------------------------------------

export const FloatingIpSchema = z.looseObject({
  id: z.string(),
  floating_ip_address: z.string(),
  floating_network_id: z.string(),
  port_id: z.string().nullish(),
  fixed_ip_address: z.string().nullish(),
  status: z.string(),
  description: z.string().nullish(),
  tags: z.array(z.string()).nullish(),
  created_at: z.string().nullish(),
});
export type NeutronFloatingIp = z.infer<typeof FloatingIpSchema>;
export const FloatingIpBodySchema = z.looseObject({ floatingip: FloatingIpSchema });
export const FloatingIpListSchema = z.looseObject({
  floatingips: z.array(FloatingIpSchema),
  floatingips_links: z.array(LinkSchema).optional(),
});

export const PortSchema = z.looseObject({
  id: z.string(),
  network_id: z.string(),
  device_id: z.string().nullish(),
  device_owner: z.string().nullish(),
  status: z.string(),
  tags: z.array(z.string()).nullish(),
  created_at: z.string().nullish(),
});
export type NeutronPort = z.infer<typeof PortSchema>;
export const PortListSchema = z.looseObject({
  ports: z.array(PortSchema),
  ports_links: z.array(LinkSchema).optional(),
});

// ---- Cinder v3 ---------------------------------------------------------------------------

export const VolumeSchema = z.looseObject({
  id: z.string(),
  // Cinder allows a volume without a name (boot volumes Nova makes have none).
  name: z.string().nullish(),
  status: z.string(),
  size: z.number(),
  metadata: z.record(z.string(), z.string()).nullish(),
  attachments: z.array(z.looseObject({ server_id: z.string().nullish() })).nullish(),
  created_at: z.string().nullish(),
});
export type CinderVolume = z.infer<typeof VolumeSchema>;
export const VolumeListSchema = z.looseObject({
  volumes: z.array(VolumeSchema),
  volumes_links: z.array(LinkSchema).optional(),
});
