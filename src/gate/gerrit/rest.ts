import { z } from 'zod';
import type { ConnectionConfig } from '../config/types.ts';
import type { ChangeRef } from '../model.ts';

/**
 * Gerrit's REST API as the gate uses it: read a change (current revision, commit message, votes,
 * messages), query changes (catch-up after a lost stream), post a review (message and votes) and
 * submit. Authenticated with the connection's HTTP password under `/a/`; answers lose Gerrit's
 * `)]}'` line before they are parsed.
 */

const XSSI = ")]}'";

export class GerritRestError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = 'GerritRestError';
  }
}

const AccountInfo = z.object({ _account_id: z.number().optional(), username: z.string().optional(), name: z.string().optional() }).loose();

export const ChangeInfo = z.object({
  project: z.string(),
  branch: z.string(),
  change_id: z.string(),
  subject: z.string(),
  status: z.enum(['NEW', 'MERGED', 'ABANDONED']),
  updated: z.string(),
  _number: z.number().int(),
  owner: AccountInfo,
  current_revision: z.string().optional(),
  revisions: z.record(z.string(), z.object({
    _number: z.number().int(),
    ref: z.string(),
    commit: z.object({ message: z.string() }).loose().optional(),
  }).loose()).optional(),
  labels: z.record(z.string(), z.object({ all: z.array(AccountInfo.extend({ value: z.number().optional() })).optional() }).loose()).optional(),
  messages: z.array(z.object({
    author: AccountInfo.optional(), message: z.string(), tag: z.string().optional(), date: z.string(), _revision_number: z.number().optional(),
  }).loose()).optional(),
  _more_changes: z.boolean().optional(),
}).loose();
export type ChangeInfo = z.output<typeof ChangeInfo>;

/** Gerrit's `2024-01-02 10:00:00.000000000` (UTC) as ms. */
export function gerritTimeMs(t: string): number {
  return Date.parse(`${t.replace(' ', 'T').slice(0, 23)}Z`);
}

/** The current votes on a change: label → username → value. */
export function votesOf(info: ChangeInfo): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  for (const [label, l] of Object.entries(info.labels ?? {})) {
    const m = new Map<string, number>();
    for (const v of l.all ?? []) if (v.value) m.set(v.username ?? String(v._account_id), v.value);
    out.set(label, m);
  }
  return out;
}

export function changeRefOf(info: ChangeInfo, connection: string, url: string): ChangeRef {
  const rev = info.current_revision ? info.revisions?.[info.current_revision] : undefined;
  if (!info.current_revision || !rev) throw new GerritRestError(500, `change ${info._number}: Gerrit sent no current revision`);
  return {
    connection, project: info.project, branch: info.branch, number: info._number, patchset: rev._number, ref: rev.ref,
    revision: info.current_revision, changeId: info.change_id, subject: info.subject, url: `${url}/c/${info.project}/+/${info._number}`,
    owner: info.owner.username ?? String(info.owner._account_id ?? ''), message: rev.commit?.message ?? '',
  };
}

const CHANGE_OPTIONS = ['CURRENT_REVISION', 'CURRENT_COMMIT', 'DETAILED_LABELS', 'DETAILED_ACCOUNTS'];

export class GerritRest {
  private readonly auth: string | null;

  constructor(readonly connection: ConnectionConfig, private readonly timeoutMs = 30_000) {
    this.auth = connection.password ? `Basic ${Buffer.from(`${connection.user}:${connection.password}`).toString('base64')}` : null;
  }

  private async call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
    const url = `${this.connection.httpUrl}${this.auth ? '/a' : ''}${path}`;
    let res: Response;
    try {
      res = await fetch(url, {
        method, signal: AbortSignal.timeout(this.timeoutMs),
        headers: { accept: 'application/json', ...(this.auth ? { authorization: this.auth } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      throw new GerritRestError(0, `cannot reach Gerrit at ${this.connection.httpUrl}: ${(e as Error).cause ?? (e as Error).message}`);
    }
    const text = await res.text();
    if (!res.ok) throw new GerritRestError(res.status, `Gerrit answered ${res.status} to ${method} ${path.split('?')[0]}: ${text.trim().slice(0, 300)}`);
    return JSON.parse(text.startsWith(XSSI) ? text.slice(XSSI.length) : text);
  }

  async getChange(id: number | string, extra: string[] = []): Promise<ChangeInfo> {
    const o = [...CHANGE_OPTIONS, ...extra].map((x) => `o=${x}`).join('&');
    return ChangeInfo.parse(await this.call('GET', `/changes/${encodeURIComponent(String(id))}?${o}`));
  }

  async changeRef(id: number | string): Promise<{ ref: ChangeRef; info: ChangeInfo }> {
    const info = await this.getChange(id);
    return { ref: changeRefOf(info, this.connection.name, this.connection.httpUrl), info };
  }

  /** Every change matching `q` (pages of 100), newest first. */
  async query(q: string, extra: string[] = []): Promise<ChangeInfo[]> {
    const out: ChangeInfo[] = [];
    const o = [...CHANGE_OPTIONS, ...extra].map((x) => `o=${x}`).join('&');
    for (let start = 0; ; start += 100) {
      const page = z.array(ChangeInfo).parse(await this.call('GET', `/changes/?q=${encodeURIComponent(q)}&n=100&S=${start}&${o}`));
      out.push(...page);
      if (!page.at(-1)?._more_changes) return out;
    }
  }

  async review(change: number, revision: string, input: { message: string; labels?: Record<string, number>; tag?: string }): Promise<void> {
    await this.call('POST', `/changes/${change}/revisions/${revision}/review`, input);
  }

  async submit(change: number): Promise<void> {
    await this.call('POST', `/changes/${change}/submit`, {});
  }
}
