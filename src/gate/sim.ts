import type { Logger } from '../log.ts';
import type { GerritSim } from '../gerritsim/index.ts';
import { DEFAULT_ACCOUNTS } from '../gerritsim/index.ts';
import type { GateConfig } from './config/types.ts';

/**
 * `nodepool run` starts the built-in Gerrit simulator for each connection marked `simulated`,
 * at the connection's own addresses (SSH `server:port`, HTTP `http-url`), with its accounts
 * (the connection's user and password) and the gate's projects, so the gate finds it where
 * its configuration says. Connections sharing a server share one simulator.
 */
export async function startSimulatedGerrits(config: GateConfig, logger: Logger): Promise<GerritSim[]> {
  const { createGerritSim } = await import('../gerritsim/index.ts');
  const byServer = new Map<string, GateConfig['connections']>();
  for (const c of config.connections.filter((x) => x.simulated)) {
    const key = `${c.server}:${c.port}`;
    byServer.set(key, [...(byServer.get(key) ?? []), c]);
  }
  const sims: GerritSim[] = [];
  try {
    for (const conns of byServer.values()) {
      const first = conns[0]!;
      const http = new URL(first.httpUrl);
      const accounts = [...DEFAULT_ACCOUNTS.filter((a) => !conns.some((c) => c.user === a.username)).map((a) => ({ ...a })),
        ...conns.map((c) => ({ username: c.user, password: c.password ?? 'secret', name: c.user }))];
      const projects = [...config.projects.values()].filter((p) => conns.some((c) => c.name === p.connection)).map((p) => p.name);
      const sim = await createGerritSim({
        host: first.server, sshPort: first.port, httpPort: Number(http.port || 80), accounts, projects,
        logger: logger.child({ component: 'gerrit-sim' }),
      });
      sims.push(sim);
      logger.info({ url: sim.url, sshPort: sim.sshPort, projects, connections: conns.map((c) => c.name) }, 'started the built-in Gerrit simulator');
      if (conns.some((c) => c.demoChange) && projects.length) {
        // After the gate's stream is open (it catches up on anything earlier anyway).
        setTimeout(() => void uploadDemoChange(sim, projects[0]!, logger), 2000).unref();
      }
    }
  } catch (err) {
    for (const s of sims) await s.close();
    throw err;
  }
  return sims;
}

/** A first change for a newcomer to watch go through check (and, once approved, gate). */
async function uploadDemoChange(sim: GerritSim, project: string, logger: Logger): Promise<void> {
  try {
    const c = await sim.gerrit.uploadChange({
      project, subject: 'Demo: a first change', body: 'Uploaded by the Gerrit simulator at start.', owner: 'developer',
      files: { 'demo.txt': `Hello from the demo change, ${new Date().toISOString()}\n` },
    });
    logger.info({ change: c.number, project, url: sim.gerrit.changeUrl(c) }, 'demo change uploaded: approve it with `nodepool gerrit-sim review N --code-review 2 --workflow 1`');
  } catch (err) {
    logger.warn({ err: (err as Error).message }, 'could not upload the demo change');
  }
}
