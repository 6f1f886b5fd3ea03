/**
 * The gate's configuration: the `gate:` section of nodepool.yaml, or a gate.yaml of its own that
 * the section names (`gate: gate.yaml`). The vocabulary is Zuul's (connections, pipelines with a
 * manager, triggers and reporters, nodesets, jobs with a parent, project-templates, projects), so
 * an operator of Zuul reads it at once; every object is strict, so a typo is an error at its line.
 * References between entries are checked in ./checks.ts; ./resolve.ts flattens inheritance.
 */
import { z } from 'zod';

const name = z.string().min(1, 'must not be empty');
const seconds = z.number().positive();
const port = z.number().int().min(0).max(65535);

/** A regular expression, checked when the file is read (an error at its line, not at the first event). */
const regex = z.string().min(1).superRefine((v, ctx) => {
  try {
    new RegExp(v.replace(/^\(\?i\)/, ''));
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: `not a regular expression: ${(e as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '')}` });
  }
});
const regexList = z.union([regex, z.array(regex)]).transform((v) => (Array.isArray(v) ? v : [v]));

/** OpenSSH public key lines (`[host]:port type base64` as ssh-keyscan prints them, or `type base64`): their base64 blobs. */
const hostKeyLines = z.union([z.string(), z.array(z.string()).min(1)]).transform((v, ctx) => {
  const lines = Array.isArray(v) ? v : [v];
  return lines.map((line, i) => {
    const parts = line.trim().split(/\s+/);
    const at = parts.findIndex((p) => /^(ssh-|ecdsa-|sk-)/.test(p));
    const blob = at >= 0 ? parts[at + 1] : undefined;
    if (!blob || !/^[A-Za-z0-9+/]+={0,3}$/.test(blob)) {
      ctx.addIssue({ code: 'custom', path: Array.isArray(v) ? [i] : [], message: 'expected an SSH public key such as "ssh-ed25519 AAAA…" (as ssh-keyscan prints it)' });
    }
    return blob ?? '';
  });
});

export const connectionSchema = z.strictObject({
  name: name.describe('Name pipelines use for triggers and reporters.'),
  driver: z.literal('gerrit', { error: 'must be gerrit' }).describe('Only Gerrit is supported.'),
  server: name.default('127.0.0.1').describe('Host of Gerrit\'s SSH (stream-events) and, by default, its web address.'),
  port: port.default(29418).describe('Gerrit\'s SSH port.'),
  user: name.describe('Gerrit account the gate logs in and reports as.'),
  sshkey: name.optional().describe('Private key for Gerrit\'s SSH, relative to this file\'s folder. Default: a key made at start (fine for the simulator only).'),
  'host-key': hostKeyLines.optional()
    .describe('Gerrit\'s SSH host key(s), pinned: as `ssh-keyscan -p 29418 <server>` prints them or `ssh-ed25519 AAAA…`. A server showing another key is refused. Without it the key shown is accepted and logged (warning).'),
  password: name.optional().describe('HTTP password of `user` for the REST API (`/a/`); may be sealed.'),
  'http-url': name.optional().describe('Gerrit\'s web address, e.g. https://review.example.org. Default http://<server>:8080.'),
  'git-url': name.optional().describe('Where to fetch a project: `{project}` is replaced. Default <http-url>/{project}; a local path such as /srv/git/{project}.git works too.'),
  stream: z.boolean().default(true).describe('Read `gerrit stream-events` on this connection (a reporting-only account says false).'),
  simulated: z.boolean().default(false).describe('`nodepool run` starts the built-in Gerrit simulator at this address (server, port, http-url) with the configured projects.'),
  'demo-change': z.boolean().default(false).describe('With `simulated`: upload a demo change to the first project at start, so the pipelines have something to show.'),
}).describe('A Gerrit server and the account used on it.');

const approvalSchema = z.record(z.string().min(1), z.union([z.number().int(), z.array(z.number().int())]))
  .describe('Label and value(s), e.g. {Code-Review: 2} or {Verified: [1, 2]}.');

export const triggerEventSchema = z.strictObject({
  event: z.enum(['patchset-created', 'comment-added', 'change-merged', 'ref-updated', 'change-abandoned'], { error: 'must be a Gerrit event name such as patchset-created or comment-added' }),
  branch: regexList.optional().describe('Only changes to branches matching one of these.'),
  comment: regexList.optional().describe('comment-added: the comment must match one of these (e.g. `(?i)^\\s*recheck\\s*$`).'),
  approval: z.array(approvalSchema).optional().describe('comment-added: the comment must set one of these votes.'),
  username: regexList.optional().describe('Only events by these accounts.'),
});

export const reporterSchema = z.record(z.string().min(1), z.strictObject({
  Verified: z.number().int().min(-2).max(2).optional(),
  'Code-Review': z.number().int().min(-2).max(2).optional(),
  submit: z.boolean().default(false).describe('Submit (merge) the change after voting.'),
}).catchall(z.number().int())).describe('Connection name → the votes to leave (and submit) with the report.');

export const pipelineSchema = z.strictObject({
  name: name,
  manager: z.enum(['independent', 'dependent'], { error: 'must be independent or dependent' })
    .describe('independent: each change tested on its own (check); dependent: changes tested in order, each on top of those ahead (gate).'),
  description: z.string().optional(),
  trigger: z.record(z.string().min(1), z.array(triggerEventSchema)).describe('Connection name → the events that enqueue a change.'),
  require: z.record(z.string().min(1), z.strictObject({
    approval: z.array(approvalSchema).default([]).describe('Votes the change must carry now, e.g. Code-Review 2 and Workflow 1.'),
    open: z.boolean().default(true),
  })).default({}).describe('Connection name → what a change must satisfy to enter.'),
  success: reporterSchema.default({}),
  failure: reporterSchema.default({}),
  'merge-conflict': reporterSchema.optional().describe('Default: the failure reporter.'),
  precedence: z.enum(['high', 'normal', 'low']).default('normal').describe('Node request priority of its jobs.'),
  'dequeue-on-new-patchset': z.boolean().default(true),
});

const nodeSchema = z.strictObject({ name: name.describe('The node\'s name in the inventory.'), label: name.describe('Node label requested from nodepool.') });
export const nodesetSchema = z.strictObject({
  name: name.optional(),
  nodes: z.array(nodeSchema).min(1, 'a nodeset needs at least one node'),
  groups: z.array(z.strictObject({ name: name, nodes: z.array(name).min(1) })).default([]),
});

const stepSchema = z.union([
  z.string().min(1).transform((shell) => ({ shell })),
  z.strictObject({
    name: z.string().optional(),
    shell: z.string().min(1).describe('Shell commands, run with /bin/sh in the login user\'s home.'),
    hosts: z.union([name, z.array(name)]).optional().describe('Node names or group names (or `all`); default the first node.'),
  }),
], { error: 'must be a shell command (quote it: `true` alone is a boolean) or {name, shell, hosts}' });

export const jobSchema = z.strictObject({
  name: name,
  parent: name.optional().describe('Job whose attributes this one inherits (unset attributes).'),
  abstract: z.boolean().optional().describe('Only a parent for other jobs.'),
  description: z.string().optional(),
  nodeset: z.union([name, nodesetSchema]).optional().describe('A nodeset name or one written here.'),
  run: z.array(stepSchema).optional().describe('Steps run in order; the first failing step fails the job.'),
  'post-run': z.array(stepSchema).optional().describe('Steps run after `run`, whatever its result (log collection).'),
  timeout: seconds.optional().describe('Seconds for the whole run; past it the job is TIMED_OUT. Default 1800.'),
  voting: z.boolean().optional().describe('A non-voting job never fails its change. Default true.'),
  files: regexList.optional().describe('Run only when the change touches a file matching one of these.'),
  'irrelevant-files': regexList.optional().describe('Skip when every file the change touches matches one of these.'),
  'required-projects': z.array(name).optional().describe('Other projects prepared for the job (at their branch, or at a change ahead of it in the queue).'),
  vars: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name'), z.union([z.string(), z.number(), z.boolean()])).optional()
    .describe('Environment variables of every step.'),
});

/** A job in a project's pipeline: its name, or a one-key mapping `{job: {voting: false}}`. */
const jobRef = z.union([
  name,
  z.record(name, z.strictObject({ voting: z.boolean().optional() }).nullable()).refine((m) => Object.keys(m).length === 1, 'write one job per entry'),
]);
const projectPipeline = z.strictObject({ jobs: z.array(jobRef).default([]) });

export const projectTemplateSchema = z.strictObject({ name: name, description: z.string().optional() }).catchall(projectPipeline);

export const projectSchema = z.strictObject({
  name: name.describe('Gerrit project, e.g. openstack/nova.'),
  connection: name.optional().describe('Default: the first connection.'),
  queue: name.optional().describe('Dependent pipelines share one queue among the projects naming the same queue. Default: a queue of its own.'),
  templates: z.array(name).default([]),
  'default-branch': name.default('master'),
}).catchall(projectPipeline);

export const gateSchema = z.strictObject({
  name: name.default('gate').describe('Name of the scheduler\'s lease; two gates with one name share the work, never both acting.'),
  nodepool: z.strictObject({
    url: name.optional().describe('The node-request API. Default: this configuration\'s `api` address.'),
    token: name.optional().describe('API token (role requestor); may be sealed.'),
    requestor: name.default('gate').describe('Requestor name on node requests.'),
    'heartbeat-interval': seconds.default(60).describe('Seconds between lease renewals of a running job\'s nodes.'),
    'node-timeout': seconds.default(3600).describe('Seconds a job waits for its nodes before NODE_FAILURE.'),
  }).prefault({}),
  executor: z.strictObject({
    'max-builds': z.number().int().min(1).default(10).describe('Jobs running (or waiting for nodes) at once.'),
    'ssh-key': name.optional().describe('Private key to log in to nodes, relative to this file. Default: a key made at start.'),
    'workspace-dir': name.default('state/gate/work').describe('Prepared repositories, relative to this file.'),
    'log-dir': name.default('state/gate/logs').describe('Job logs, relative to this file.'),
    'default-timeout': seconds.default(1800).describe('Seconds a job may run when it sets no timeout.'),
    'hold-expiration': z.number().min(0).default(86400)
      .describe('Seconds the nodes an autohold keeps stay held before they are deleted (Zuul\'s default-hold-expiration); 0: until an operator deletes them.'),
  }).prefault({}),
  web: z.strictObject({
    listen: name.default('127.0.0.1'),
    port: port.default(8023).describe('Port of `nodepool gate`\'s web server (logs, webhook, status); `nodepool run` serves them on the API port.'),
    'log-url': name.optional().describe('Base URL of job logs in reports. Default: this web server\'s /gate/logs.'),
    'webhook-token': name.optional().describe('Shared secret a webhook sender puts in `Authorization: Bearer`; may be sealed. Default: none needed.'),
  }).prefault({}),
  connections: z.array(connectionSchema).min(1, 'name at least one Gerrit connection'),
  pipelines: z.array(pipelineSchema).default([]),
  nodesets: z.array(nodesetSchema.extend({ name })).default([]),
  jobs: z.array(jobSchema).default([]),
  'project-templates': z.array(projectTemplateSchema).default([]),
  projects: z.array(projectSchema).default([]),
}).describe('The gating core.');

export type GateYaml = z.output<typeof gateSchema>;
