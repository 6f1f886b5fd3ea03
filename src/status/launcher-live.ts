import type { Launcher } from '../launcher/launcher.ts';
import type { ProviderLive } from './providers.ts';

/**
 * The live provider state of a launcher in this process, as the status paths show it: its
 * health and why, the quota room it computed and the pools it paused. Read at each call, so the
 * answer is as fresh as the launcher's own view.
 */
export function launcherLive(launcher: Pick<Launcher, 'providerStatus' | 'providers'>): () => ReadonlyMap<string, ProviderLive> {
  return () => new Map(launcher.providerStatus().map((p) => [p.name, {
    health: p.health,
    reason: p.reason,
    since: p.since,
    room: p.cloudRoom,
    labelCost: launcher.providers.get(p.name)?.labelCost ?? new Map(),
    pausedUntil: new Map(Object.entries(p.paused)),
  }]));
}
