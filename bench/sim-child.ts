/**
 * The simulator in a process of its own for the benchmarks, so that the CPU the benchmark reads
 * in its own process is the system's (API + launcher), not the simulated cloud's.
 * Control over IPC: {cmd: 'stats' | 'reset' | 'count' | 'cpu' | 'stop'}.
 */
import { writeFileSync } from 'node:fs';
import YAML from 'yaml';
import { createCloudSim } from '../src/cloudsim/index.ts';

const opts = JSON.parse(process.argv[2]) as { clouds: string[]; bootDelayMs: number; deleteDelayMs: number; sshPort: number; ssh: boolean; cloudsYaml: string };
const sim = await createCloudSim({
  clouds: opts.clouds.map((name) => ({
    name, bootDelayMs: opts.bootDelayMs, deleteDelayMs: opts.deleteDelayMs, sshPort: opts.sshPort, ssh: opts.ssh,
    quota: { instances: -1, cores: -1, ram: -1 },
  })),
});
writeFileSync(opts.cloudsYaml, YAML.stringify(sim.cloudsYaml()), { mode: 0o600 });

process.on('message', async (m: { cmd: string; id: number }) => {
  const reply = (data: unknown) => process.send!({ id: m.id, data });
  switch (m.cmd) {
    case 'stats': {
      const byCloud = opts.clouds.map((c) => sim.cloud(c).stats());
      const calls: Record<string, number> = {};
      for (const s of byCloud) for (const [k, v] of Object.entries(s.calls)) calls[k] = (calls[k] ?? 0) + v;
      reply({ total: byCloud.reduce((a, s) => a + s.total, 0), calls });
      break;
    }
    case 'reset':
      for (const c of opts.clouds) sim.cloud(c).resetStats();
      reply(null);
      break;
    case 'count':
      reply(opts.clouds.reduce((a, c) => a + sim.cloud(c).servers().filter((s) => s.status !== 'DELETED').length, 0));
      break;
    case 'cpu':
      reply(process.cpuUsage());
      break;
    case 'stop':
      await sim.close();
      reply(null);
      process.exit(0);
  }
});
process.send!({ ready: true });

// The benchmark ended without asking (killed, or it failed): the simulator goes with it.
process.on('disconnect', () => {
  void sim.close().finally(() => process.exit(0));
});
