/**
 * The dashboard of `npm run bench:status` in a process of its own: sequential GETs over one
 * keep-alive connection, timed to the last byte of the body as sent (a compressed body is not
 * decompressed: that is the dashboard's CPU, not the server's time). Control over IPC:
 * {url, headers, n, warmup, write?} → {times, bytes}. With `write`, before each GET (not timed)
 * the benchmark's process is asked to change a node ({write: true} → {written: true}).
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

/** Asks the benchmark's process to write a node (not timed), and waits until it did. */
function write(): Promise<void> {
  return new Promise((resolve) => {
    const on = (m: { written?: boolean }) => { if (m.written) { process.off('message', on); resolve(); } };
    process.on('message', on);
    process.send!({ write: true });
  });
}

process.on('message', async (m: { url?: string; headers: Record<string, string>; n: number; warmup: number; write?: boolean }) => {
  if (!m.url) return;
  // What a browser sends unless the row says otherwise.
  const headers = { 'accept-encoding': 'gzip, deflate, br', ...m.headers };
  for (let i = 0; i < m.warmup; i++) await get(m.url, headers);
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < m.n; i++) {
    if (m.write) await write();
    const t0 = performance.now();
    bytes = await get(m.url, headers);
    times.push(performance.now() - t0);
  }
  process.send!({ times, bytes });
});
process.on('disconnect', () => process.exit(0));
