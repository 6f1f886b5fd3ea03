import { z } from 'zod';

/** The `fake:` block of a provider with `driver: fake`: how its in-memory cloud behaves. */
export const fakeDriverSchema = z
  .strictObject({
    'active-after-lists': z.number().int().min(1).default(1).describe('Server lists after a create call before the new server shows ACTIVE.'),
    'active-after': z.number().nonnegative().optional().describe('Or seconds after the create call, whichever comes first; unset = by lists only.'),
    'gone-after-lists': z.number().int().min(0).default(1).describe('Server lists during which a deleted server is still listed (deleting).'),
    images: z.array(z.string().min(1)).default(['fake-image']).describe('Names of the images the cloud has.'),
    networks: z.array(z.string().min(1)).default(['private']).describe('Names of the networks the cloud has.'),
    'max-instances': z.number().int().default(-1).describe('Absolute limit on servers in the cloud; -1 = none.'),
    'max-cores': z.number().int().default(-1).describe('Absolute limit on vCPUs; -1 = none.'),
    'max-ram': z.number().int().default(-1).describe('Absolute limit on RAM (MiB); -1 = none.'),
  })
  .describe('The in-memory cloud of the fake driver (tests and trials; no HTTP, no SSH).');

export type FakeDriverYaml = z.infer<typeof fakeDriverSchema>;
