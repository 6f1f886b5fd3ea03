/**
 * The benchmark's scheduler in a process of its own, so that the CPU read in the system's process
 * is the system's alone: asks for BURST one-node requests at once, waits for each to be fulfilled,
 * then (when told) releases them all. Control over IPC: {cmd: 'burst', base, n} → {ids, latencies,
 * totalMs}; {cmd: 'release', base, ids} → null; {cmd: 'cpu'} → process.cpuUsage().
 *
 * Plain node:http over keep-alive connections, as a scheduler holding a connection pool would:
 * fetch (undici) cost this process 3.9–4.8 ms of CPU per node, on the same two cores as the system.
 */
import http from 'node:http';

type Msg = { id: number; cmd: 'burst'; base: string; n: number } | { id: number; cmd: 'release'; base: string; ids: string[] } | { id: number; cmd: 'cpu' };

const agent = new http.Agent({ keepAlive: true, maxSockets: 1000 });

function call(method: 'GET' | 'POST', url: string, body?: unknown): Promise<any> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method, agent,
      headers: payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        try { resolve(JSON.parse(Buffer.concat(chunks).toString('utf8'))); } catch (e) { reject(e); }
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

const post = (base: string, path: string, body: unknown) => call('POST', base + path, body);
const get = (base: string, path: string) => call('GET', base + path);

async function burst(base: string, n: number): Promise<{ ids: string[]; latencies: number[]; totalMs: number }> {
  const t0 = performance.now();
  const latencies: number[] = [];
  const ids = await Promise.all(Array.from({ length: n }, async () => {
    const start = performance.now();
    const req = await post(base, '/api/v1/requests', { labels: ['jammy'], requestor: 'bench' });
    let r = await get(base, `/api/v1/requests/${req.id}?wait=120`);
    while (r.state === 'requested' || r.state === 'pending') r = await get(base, `/api/v1/requests/${req.id}?wait=120`);
    if (r.state !== 'fulfilled') throw new Error(`request ${req.id} ${r.state}: ${r.reason}`);
    latencies.push(performance.now() - start);
    return req.id as string;
  }));
  return { ids, latencies, totalMs: performance.now() - t0 };
}

process.on('message', async (m: Msg) => {
  const reply = (data: unknown) => process.send!({ id: m.id, data });
  try {
    if (m.cmd === 'burst') reply(await burst(m.base, m.n));
    else if (m.cmd === 'release') { await Promise.all(m.ids.map((id) => post(m.base, `/api/v1/requests/${id}/release`, { state: 'used' }))); reply(null); }
    else reply(process.cpuUsage());
  } catch (e) {
    process.send!({ id: m.id, error: (e as Error).message });
  }
});
process.on('disconnect', () => process.exit(0));
process.send!({ ready: true });
