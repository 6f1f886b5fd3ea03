/**
 * The dashboard of `npm run bench:status` in a process of its own: sequential GETs over one
 * keep-alive connection, timed to the last byte of the body as sent (a compressed body is not
 * decompressed: that is the dashboard's CPU, not the server's time). Control over IPC:
 * {url, headers, n, warmup, write?} → {times, bytes}. With `write` (a URL), each GET follows a POST
 * of a one-node request there, not timed: the store changes before every listing.
 */
import http from 'node:http';

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function get(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    http.get(url, { agent, headers }, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => { bytes += c.length; });
      res.on('end', () => resolve(bytes));
      res.on('error', reject);
    }).on('error', reject);
  });
}

function write(url: string): Promise<void> {
  const body = JSON.stringify({ labels: ['ubuntu-jammy'], requestor: 'bench-writer' });
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 201 ? resolve() : reject(new Error(`POST ${url}: ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

process.on('message', async (m: { url: string; headers: Record<string, string>; n: number; warmup: number; write?: string }) => {
  // What a browser sends unless the row says otherwise.
  const headers = { 'accept-encoding': 'gzip, deflate, br', ...m.headers };
  for (let i = 0; i < m.warmup; i++) await get(m.url, headers);
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < m.n; i++) {
    if (m.write) await write(m.write);
    const t0 = performance.now();
    bytes = await get(m.url, headers);
    times.push(performance.now() - t0);
  }
  process.send!({ times, bytes });
});
process.on('disconnect', () => process.exit(0));
