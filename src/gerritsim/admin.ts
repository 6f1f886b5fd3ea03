import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Gerrit } from './gerrit.ts';
import { currentPatchSet, GerritError, type Change } from './model.ts';
import type { Repos } from './repos.ts';

/**
 * The simulator's own API under `/sim/` (not Gerrit's): what a developer and a reviewer would do
 * through Gerrit's UI and `git push`, for tests, the benchmark and the quick start. Bodies are
 * plain JSON; no `)]}'` prefix, no authentication (it listens on loopback).
 */

const Files = z.record(z.string().min(1), z.string().nullable());
const NewProject = z.strictObject({ name: z.string().min(1), branch: z.string().min(1).optional(), files: z.record(z.string(), z.string()).optional() });
const NewChange = z.strictObject({
  project: z.string().min(1), branch: z.string().min(1).optional(), subject: z.string().min(1), body: z.string().optional(),
  files: Files, owner: z.string().optional(), parentChange: z.int().positive().optional(),
});
const NewPatchSet = z.strictObject({
  files: Files.default({}), uploader: z.string().optional(), subject: z.string().optional(), body: z.string().optional(), rebase: z.boolean().optional(),
});
const Review = z.strictObject({
  as: z.string().min(1), message: z.string().optional(), labels: z.record(z.string(), z.int()).optional(), tag: z.string().optional(),
  revision: z.string().optional(),
});
const As = z.strictObject({ as: z.string().min(1) });
const Raw = z.strictObject({ line: z.string() });
const NumberParams = z.object({ n: z.coerce.number().int().positive() });

function parse<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const r = schema.safeParse(body ?? {});
  if (!r.success) {
    const i = r.error.issues[0]!;
    const field = [...i.path, ...(i.code === 'unrecognized_keys' ? [i.keys[0]] : [])].join('.') || 'body';
    throw new GerritError(400, `${field}: ${i.message}`);
  }
  return r.data;
}

/** What the admin API answers for a change: enough to fetch it, vote on it and check it. */
export function changeSummary(gerrit: Gerrit, c: Change) {
  const ps = currentPatchSet(c);
  return {
    number: c.number, change_id: c.changeId, project: c.project, branch: c.branch, subject: c.subject, status: c.status,
    patchset: ps.number, revision: ps.revision, ref: ps.ref, url: gerrit.changeUrl(c), merged_as: c.mergedAs,
    votes: Object.fromEntries([...c.votes].map(([label, byAccount]) =>
      [label, [...byAccount.values()].map((v) => ({ username: gerrit.account(v.account).username, value: v.value }))])),
    messages: c.messages.map((m) => ({ author: gerrit.account(m.author).username, message: m.message, tag: m.tag, patchset: m.patchSet })),
  };
}

export interface AdminHooks {
  /** Drops every stream-events connection; answers how many. */
  dropStreams(): number;
}

export function adminRoutes(app: FastifyInstance, gerrit: Gerrit, repos: Repos, hooks: AdminHooks): void {
  app.get('/sim/projects', async () => ({ projects: gerrit.projectNames() }));
  app.post('/sim/projects', async (request, reply) => {
    const b = parse(NewProject, request.body);
    const head = await gerrit.createProject(b.name, { branch: b.branch, files: b.files });
    return reply.code(201).send({ name: b.name, branch: b.branch ?? 'master', head });
  });
  app.get<{ Params: { '*': string }; Querystring: { branch?: string } }>('/sim/log/*', async (request) => {
    const project = request.params['*'];
    if (!gerrit.hasProject(project)) throw new GerritError(404, `Project not found: ${project}`);
    return { project, log: await repos.log(project, request.query.branch ?? 'master') };
  });

  app.get('/sim/accounts', async () => ({ accounts: gerrit.listAccounts().map((a) => ({ id: a.id, username: a.username, name: a.name, email: a.email })) }));

  app.get('/sim/changes', async () => ({ changes: gerrit.listChanges().map((c) => changeSummary(gerrit, c)) }));
  app.post('/sim/changes', async (request, reply) => {
    const b = parse(NewChange, request.body);
    return reply.code(201).send(changeSummary(gerrit, await gerrit.uploadChange(b)));
  });
  app.get('/sim/changes/:n', async (request) => changeSummary(gerrit, gerrit.getChange(parse(NumberParams, request.params).n)));
  app.post('/sim/changes/:n/patchsets', async (request, reply) => {
    const { n } = parse(NumberParams, request.params);
    return reply.code(201).send(changeSummary(gerrit, await gerrit.uploadPatchSet(n, parse(NewPatchSet, request.body))));
  });
  app.post('/sim/changes/:n/review', async (request) => {
    const { n } = parse(NumberParams, request.params);
    const b = parse(Review, request.body);
    const change = gerrit.getChange(n);
    gerrit.review(change, b.revision ?? 'current', gerrit.mustFindAccount(b.as), { message: b.message, labels: b.labels, tag: b.tag });
    return changeSummary(gerrit, change);
  });
  app.post('/sim/changes/:n/submit', async (request) => {
    const { n } = parse(NumberParams, request.params);
    const b = parse(As, request.body);
    return changeSummary(gerrit, await gerrit.submit(gerrit.getChange(n), gerrit.mustFindAccount(b.as)));
  });

  app.post('/sim/stream', async (request) => {
    gerrit.emitRaw(parse(Raw, request.body).line);
    return { sent: true };
  });
  app.post('/sim/stream/drop', async () => ({ dropped: hooks.dropStreams() }));
}
