import { readFileSync } from 'node:fs';
import { createLogger } from '../../log.ts';
import { UnavailableError, UsageError } from '../../ops/errors.ts';
import { write } from '../context.ts';
import { untilSignal } from '../signals.ts';

export interface GerritSimServeOptions {
  host?: string;
  httpPort?: number;
  sshPort?: number;
  dir?: string;
  projects?: string[];
  accounts?: string;
}

/** `nodepool gerrit-sim`: the Gerrit simulator on its own, until SIGINT/SIGTERM. */
export async function serve(o: GerritSimServeOptions): Promise<void> {
  const { createGerritSim } = await import('../../gerritsim/index.ts');
  const logger = createLogger();
  const accounts = o.accounts?.split(',').map((pair) => {
    const [username, password] = pair.split(':');
    if (!username) throw new UsageError('--accounts: write user:password[,user:password…]');
    return { username, password: password || 'secret' };
  });
  const sim = await createGerritSim({
    host: o.host ?? '127.0.0.1', httpPort: o.httpPort ?? 8080, sshPort: o.sshPort ?? 29418, dir: o.dir, projects: o.projects ?? [], accounts, logger,
  });
  write(`nodepool: gerrit simulator at ${sim.url} (REST /a/, git /<project>, admin /sim/), SSH stream-events on port ${sim.sshPort}`);
  write(`nodepool: its SSH host key (a gate connection's host-key): ${sim.hostKey}`);
  const sig = await untilSignal();
  logger.info({ signal: sig }, 'stopping');
  await sim.close();
}

async function call(url: string, method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  let res: Response;
  try {
    res = await fetch(`${url.replace(/\/+$/, '')}${path}`, {
      method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new UnavailableError(`cannot reach the gerrit simulator at ${url}: ${(err as Error).cause ?? (err as Error).message}`);
  }
  const text = await res.text();
  if (!res.ok) throw new UnavailableError(`gerrit simulator: ${res.status} ${text.trim()}`);
  return JSON.parse(text) as Record<string, unknown>;
}

/** `path=content` or `path=@file`. */
function files(specs: string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const spec of specs) {
    const i = spec.indexOf('=');
    if (i < 1) throw new UsageError(`--file ${spec}: write path=content or path=@local-file`);
    const value = spec.slice(i + 1);
    out[spec.slice(0, i)] = value.startsWith('@') ? readFileSync(value.slice(1), 'utf8') : `${value}\n`;
  }
  return out;
}

function show(c: Record<string, unknown>, json?: boolean): void {
  write(json ? JSON.stringify(c) : `change ${c.number},${c.patchset} ${c.project} ${c.status} ${c.url}\n  ${c.subject}`);
}

export async function change(o: { sim: string; project: string; subject: string; file?: string[]; dependsOn?: string[]; owner?: string; branch?: string; json?: boolean }): Promise<void> {
  const body = (o.dependsOn ?? []).map((d) => `Depends-On: ${d}`).join('\n');
  show(await call(o.sim, 'POST', '/sim/changes', {
    project: o.project, subject: o.subject, files: files(o.file ?? [`${o.subject.toLowerCase().replace(/[^a-z0-9]+/g, '-')}.txt=${o.subject}`]),
    ...(body ? { body } : {}), ...(o.owner ? { owner: o.owner } : {}), ...(o.branch ? { branch: o.branch } : {}),
  }), o.json);
}

export async function review(n: string, o: { sim: string; as: string; codeReview?: number; workflow?: number; verified?: number; message?: string; json?: boolean }): Promise<void> {
  const labels: Record<string, number> = {};
  if (o.codeReview !== undefined) labels['Code-Review'] = o.codeReview;
  if (o.workflow !== undefined) labels.Workflow = o.workflow;
  if (o.verified !== undefined) labels.Verified = o.verified;
  show(await call(o.sim, 'POST', `/sim/changes/${encodeURIComponent(n)}/review`, { as: o.as, labels, ...(o.message ? { message: o.message } : {}) }), o.json);
}

export async function showChange(n: string, o: { sim: string; json?: boolean }): Promise<void> {
  const c = await call(o.sim, 'GET', `/sim/changes/${encodeURIComponent(n)}`);
  if (o.json) return write(JSON.stringify(c));
  show(c);
  for (const m of c.messages as { author: string; message: string }[]) write(`  ${m.author}: ${m.message.replace(/\n/g, '\n    ')}`);
}
