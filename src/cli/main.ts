import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { NODE_STATES, REQUEST_STATES } from '../model.ts';
import { exitCodeFor } from '../ops/errors.ts';
import { PROJECT_ROOT } from '../project-root.ts';
import type { GlobalOptions } from './context.ts';

/**
 * The `nodepool` command. Every command is declared here, in one place, and each loads its own
 * code only when it runs, so `nodepool node list` never loads the launcher or the simulator.
 * Exit status: 0 ok, 1 failed, 2 usage.
 */

const REMOTE = 'Talks to the running system at --url, or with --store to the store itself.';

const globals = (cmd: Command) => cmd.optsWithGlobals() as GlobalOptions;

function intArg(name: string, min = 0) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be a whole number >= ${min}`);
    return n;
  };
}

function secondsArg(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('must be a number of seconds >= 0');
  return n;
}

/** `90`, `90s`, `30m`, `2h`, `1d`, `1h30m`: a duration in seconds. */
export function durationArg(v: string): number {
  const plain = Number(v);
  if (v.trim() !== '' && Number.isFinite(plain)) {
    if (plain <= 0) throw new InvalidArgumentError('must be a duration > 0 such as 90s, 30m, 2h or 1d');
    return plain;
  }
  const unit: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };
  const parts = [...v.matchAll(/(\d+(?:\.\d+)?)([smhdw])/g)];
  if (!parts.length || parts.map((p) => p[0]).join('') !== v) throw new InvalidArgumentError('must be a duration such as 90s, 30m, 2h, 1d or 1h30m');
  return parts.reduce((sum, p) => sum + Number(p[1]) * unit[p[2]!]!, 0);
}

function version(): string {
  try {
    return (JSON.parse(readFileSync(new URL('package.json', PROJECT_ROOT), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function nodeList(cmd: Command, summary: string): Command {
  return cmd.description(`${summary} ${REMOTE}`)
    .option('--detail', 'also show pool, hostname, private IPv4, AZ, username, port, allocation, hold and comment')
    .option('--label <label>', 'only nodes of this label')
    .option('--provider <provider>', 'only nodes of this provider')
    .addOption(new Option('--state <state>', 'only nodes in this state').choices(NODE_STATES))
    .option('--json', 'print JSON (every field, snake_case keys, age in seconds)')
    .action(async (o, c: Command) => (await import('./commands/nodes.ts')).listNodes(globals(c), o));
}

function nodeHold(cmd: Command, summary: string): Command {
  return cmd.description(`${summary} ${REMOTE}`)
    .argument('<id>', 'node id')
    .option('--reason <reason>', 'why, shown in node list --detail')
    .option('--expires <duration>', 'end the hold after this long: 90s, 30m, 2h, 1d (default: until deleted)', durationArg)
    .option('--json', 'print the held node as JSON')
    .action(async (id: string, o, c: Command) => (await import('./commands/nodes.ts')).holdNode(globals(c), id, o));
}

function nodeDelete(cmd: Command, summary: string): Command {
  return cmd.description(`${summary} ${REMOTE}`)
    .argument('<id>', 'node id')
    .option('--now', 'wait until its server is deleted and the node is gone')
    .option('--timeout <seconds>', 'with --now: give up (exit 1) after this long', secondsArg, 300)
    .option('--json', 'print the node as JSON')
    .action(async (id: string, o, c: Command) => (await import('./commands/nodes.ts')).deleteNode(globals(c), id, o));
}

function requestList(cmd: Command, summary: string): Command {
  return cmd.description(`${summary} ${REMOTE}`)
    .addOption(new Option('--state <state>', 'only requests in this state').choices(REQUEST_STATES))
    .option('--detail', 'also show tenant and pool')
    .option('--json', 'print JSON (snake_case keys, age in seconds)')
    .action(async (o, c: Command) => (await import('./commands/requests.ts')).listRequests(globals(c), o));
}

function configCheck(cmd: Command, summary: string): Command {
  return cmd.description(summary)
    .argument('[file]', 'configuration file (default: --config)')
    .action(async (file: string | undefined, _o, c: Command) =>
      (await import('./commands/config-check.ts')).configCheck(file ?? globals(c).config));
}

function listing(cmd: Command, summary: string, fn: 'listLabels' | 'listProviders' | 'listImages' | 'listDibImages'): Command {
  return cmd.description(`${summary} ${REMOTE}`)
    .option('--detail', 'also show the detail columns')
    .option('--json', 'print JSON (snake_case keys, age in seconds)')
    .action(async (o, c: Command) => (await import('./commands/overview.ts'))[fn](globals(c), o));
}

function providerInfo(cmd: Command, summary: string): Command {
  return cmd.description(`${summary} ${REMOTE}`)
    .argument('<provider>', 'provider name')
    .option('--json', 'print JSON')
    .action(async (name: string, o, c: Command) => (await import('./commands/overview.ts')).info(globals(c), name, o));
}

function providerErase(cmd: Command, summary: string): Command {
  return cmd.description(`${summary} ${REMOTE}`)
    .argument('<provider>', 'provider name')
    .option('--force', 'do not ask for confirmation')
    .option('--json', 'print JSON')
    .action(async (name: string, o, c: Command) => (await import('./commands/overview.ts')).erase(globals(c), name, o));
}

function imageBuild(cmd: Command, summary: string): Command {
  return cmd.description(`${summary} ${REMOTE}`)
    .argument('<image>', 'diskimage name')
    .option('--wait', 'follow the build, then each provider\'s upload (bytes, rate) and validation; exit 1 if any fails')
    .action(async (name: string, o, c: Command) => (await import('./commands/images.ts')).build(globals(c), name, o));
}

function imageDelete(cmd: Command, summary: string): Command {
  return cmd.description(`${summary} ${REMOTE}`)
    .argument('<upload-id>', 'upload id (image list)')
    .option('--json', 'print JSON')
    .action(async (id: string, o, c: Command) => (await import('./commands/images.ts')).deleteUpload(globals(c), id, o));
}

function dibImageDelete(cmd: Command, summary: string): Command {
  return cmd.description(`${summary} ${REMOTE}`)
    .argument('<build-id>', 'build id (dib-image list)')
    .option('--json', 'print JSON')
    .action(async (id: string, o, c: Command) => (await import('./commands/images.ts')).deleteBuild(globals(c), id, o));
}

function imageStatus(cmd: Command, summary: string): Command {
  return cmd.description(`${summary} ${REMOTE}`)
    .option('--json', 'print JSON')
    .action(async (o, c: Command) => (await import('./commands/images.ts')).imageStatus(globals(c), o));
}

function imagePause(cmd: Command, summary: string, pause: boolean): Command {
  cmd.description(`${summary} ${REMOTE}`).argument('<image>', 'diskimage name').option('--json', 'print JSON');
  if (pause) cmd.option('--reason <reason>', 'why, shown by image status');
  return cmd.action(async (name: string, o, c: Command) => {
    const m = await import('./commands/images.ts');
    return pause ? m.pause(globals(c), name, o) : m.unpause(globals(c), name, o);
  });
}

export function buildProgram(): Command {
  const program = new Command('nodepool')
    .description('Elastic test-node pool manager for CI, in the style of OpenStack Nodepool.')
    .version(version())
    .option('-c, --config <file>', 'configuration file', process.env.NODEPOOL_CONFIG || 'nodepool.yaml')
    .option('--url <url>', 'API of the running system (default: http://<api.listen>:<api.port> from the config)')
    .option('--store', "read and write the configuration's store directly instead of the running system's API")
    .option('--token-file <file>', 'API token for writes (and reads when api.read-public is false); default: NODEPOOL_TOKEN')
    // Throw instead of exiting, so main() maps every usage error to exit status 2; subcommands
    // created below with .command() inherit this.
    .exitOverride()
    .showHelpAfterError('(nodepool --help shows the commands)')
    .addHelpText('after', [
      '',
      'Two ways to reach the system (node, request, label, provider, status, info, erase and the',
      'Nodepool spellings):',
      '  --url    (the default) the running system\'s HTTP API; without --url the address comes from',
      '           the `api` section of the configuration. Writes need a token: --token-file or',
      '           NODEPOOL_TOKEN, when api.tokens is set.',
      '  --store  the store named in the configuration, read and written directly (no token: the',
      '           store\'s own access rules apply); for when the API is down. Provider health and',
      '           quota, known only to a running launcher, show as unknown.',
      '',
      'Exit status: 0 ok, 1 failed, 2 usage error.',
    ].join('\n'));

  program.command('run')
    .description('run every role (launcher, API, and the OpenStack simulator for the clouds cloud-sim.clouds names) in one process')
    .action(async (_o, c: Command) => (await import('./commands/run.ts')).run(globals(c)));

  program.command('migrate')
    .description('bring the store\'s schema up to date, breaking migrations included (stop the processes of the older release first)')
    .action(async (_o, c: Command) => (await import('./commands/store.ts')).migrateStore(globals(c)));

  const launcher = program.command('launcher')
    .description('run one launcher on the configured store (any number of them share a PostgreSQL store)')
    .option('--name <name>', 'name written in leases and shown by `launcher list` (default <hostname>-<pid>)')
    .option('--providers <names>', 'comma-separated providers to serve (default all)', (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean))
    .option('--lease <seconds>', 'lease on the requests and nodes it works on; another launcher takes them over this long after it dies', secondsArg)
    .action(async (o, c: Command) => (await import('./commands/roles.ts')).launcher(globals(c), o));
  launcher.command('list')
    .description('list the registered launchers, their providers and heartbeats (from the store)')
    .option('--json', 'print JSON')
    .action(async (o, c: Command) => (await import('./commands/store.ts')).listLaunchers(globals(c), o));

  program.command('api')
    .description('run one node-request API server on the configured store')
    .option('--port <n>', 'listen port (default api.port; 0 = any free port)', intArg('--port'))
    .option('--name <name>', 'name written in the audit log for changes made through it (default api)')
    .action(async (o, c: Command) => (await import('./commands/roles.ts')).api(globals(c), o));

  program.command('cloud-sim')
    .description('serve a local OpenStack API simulator (Keystone, Nova, Glance, Neutron, Cinder) with SSH-reachable servers and injected faults')
    .option('--host <address>', 'address of the HTTP APIs', '127.0.0.1')
    .option('--port <n>', 'HTTP port (0 = any free port)', intArg('--port'))
    .option('--clouds <names>', 'comma-separated cloud names to simulate', (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean))
    .option('--boot-delay <seconds>', 'seconds from create to ACTIVE', secondsArg)
    .option('--delete-delay <seconds>', 'seconds from DELETE to gone', secondsArg)
    .option('--ssh-port <n>', 'SSH port of every simulated server', intArg('--ssh-port'))
    .option('--clouds-yaml <file>', 'write a clouds.yaml for the simulated clouds to this file')
    .option('--faults <file>', 'YAML faults per cloud (errors, latency, boots, deletes, offline, leakPorts, unmanagedServers); see src/cloudsim/README.md')
    .option('--error-rate <p>', 'probability (0-1) that any API call fails with 500, 503 or 429', (v: string) => {
      const p = Number(v);
      if (!(p >= 0 && p <= 1)) throw new InvalidArgumentError('must be a probability between 0 and 1');
      return p;
    })
    .option('--seed <n>', 'seed of the fault generator, to repeat a run', intArg('--seed'))
    .option('--unmanaged-servers <n>', 'ACTIVE servers of other users in each cloud, using part of its quota', intArg('--unmanaged-servers'))
    .action(async (o) => (await import('./commands/cloud-sim.ts')).cloudSim(o));

  const gerritSim = program.command('gerrit-sim')
    .description('serve a small Gerrit (SSH stream-events, REST review/query/submit, git over HTTP) with an admin API to upload changes and vote')
    .option('--host <address>', 'address of the HTTP and SSH listeners', '127.0.0.1')
    .option('--http-port <n>', 'HTTP port: REST under /a/, git at /<project>, admin under /sim/ (0 = any)', intArg('--http-port'))
    .option('--ssh-port <n>', 'SSH port of stream-events (0 = any)', intArg('--ssh-port'))
    .option('--dir <dir>', 'keep the git repositories here (default: a temporary folder)')
    .option('--projects <names>', 'comma-separated projects to create at start', (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean))
    .option('--accounts <list>', 'accounts as user:password,… (default admin, zuul, developer, core with password secret)')
    .action(async (o) => (await import('./commands/gerrit-sim.ts')).serve(o));
  const simUrl = () => new Option('--sim <url>', 'the gerrit simulator\'s HTTP address').default('http://127.0.0.1:8080');
  gerritSim.command('change')
    .description('upload a new change to the gerrit simulator')
    .addOption(simUrl())
    .requiredOption('--project <name>', 'project')
    .requiredOption('--subject <text>', 'first line of the commit message')
    .option('--file <path=content>', 'a file of the change; path=@local-file reads it (repeat for more)', (v: string, all: string[] = []) => [...all, v])
    .option('--depends-on <change-url>', 'a Depends-On footer (repeat for more)', (v: string, all: string[] = []) => [...all, v])
    .option('--owner <user>', 'uploader and owner (default admin)')
    .option('--branch <name>', 'target branch (default master)')
    .option('--json', 'print JSON')
    .action(async (o) => (await import('./commands/gerrit-sim.ts')).change(o));
  gerritSim.command('review')
    .description('vote and comment on a change as an account of the gerrit simulator')
    .argument('<change>', 'change number')
    .addOption(simUrl())
    .option('--as <user>', 'reviewing account', 'core')
    .option('--code-review <n>', 'Code-Review vote (-2..2)', Number)
    .option('--workflow <n>', 'Workflow vote (-1..1)', Number)
    .option('--verified <n>', 'Verified vote (-2..2)', Number)
    .option('--message <text>', 'comment (e.g. recheck)')
    .option('--json', 'print JSON')
    .action(async (n: string, o) => (await import('./commands/gerrit-sim.ts')).review(n, o));
  gerritSim.command('show')
    .description('show a change of the gerrit simulator with its votes and messages')
    .argument('<change>', 'change number')
    .addOption(simUrl())
    .option('--json', 'print JSON')
    .action(async (n: string, o) => (await import('./commands/gerrit-sim.ts')).showChange(n, o));

  const gate = program.command('gate')
    .description('run the gating core (check and gate pipelines on Gerrit changes) on the configured store; its nodes come through the node-request API')
    .option('--name <name>', 'owner name in the gate lease; a gate restarted with the same name resumes at once (default <gate name>@<hostname>)')
    .option('--port <n>', 'port of its web server: job logs, status, webhook (default gate.web.port; 0 = any)', intArg('--port'))
    .action(async (o, c: Command) => (await import('./commands/gate.ts')).gateRole(globals(c), o));
  gate.command('status')
    .description('pipelines, queues, changes and their jobs with state, elapsed and remaining time and log URL (from the API at --url)')
    .option('--json', 'print the /gate/status JSON')
    .action(async (o, c: Command) => (await import('./commands/gate.ts')).status(globals(c), o));
  for (const type of ['enqueue', 'dequeue'] as const) {
    gate.command(type)
      .description(type === 'enqueue' ? 'put a change into a pipeline (no trigger or requirement needed), then print what the gate did' : 'take a change out of a pipeline: its jobs are canceled and their nodes released; no report')
      .requiredOption('--change <N[,P]>', 'change number, or number,patchset (Zuul\'s spelling: 42,3)')
      .requiredOption('--pipeline <name>', 'pipeline')
      .option('--project <name>', 'the change\'s project (checked)')
      .option('--wait <seconds>', 'how long to wait for the gate to carry it out', secondsArg, 30)
      .action(async (o, c: Command) => (await import('./commands/gate.ts')).order(globals(c), type, o));
  }
  const autohold = program.command('autohold').description('keep the nodes of failed gate builds for debugging (Zuul\'s autohold)');
  autohold.command('add')
    .description('hold the nodes of the next failed build(s) of a job')
    .requiredOption('--job <name>', 'job')
    .requiredOption('--reason <text>', 'why, shown with the held nodes')
    .option('--project <name>', 'only builds of this project\'s changes')
    .option('--change <n>', 'only builds of this change', intArg('--change', 1))
    .option('--count <n>', 'how many failed builds to hold', intArg('--count', 1), 1)
    .option('--json', 'print JSON')
    .action(async (o, c: Command) => (await import('./commands/gate.ts')).autoholdAdd(globals(c), o));
  const autoholdList = (cmd: Command) => cmd.description('list autoholds: job, project, change, how many held of how many').option('--json', 'print JSON')
    .action(async (o, c: Command) => (await import('./commands/gate.ts')).autoholdList(globals(c), o));
  const autoholdDelete = (cmd: Command) => cmd.description('delete an autohold (nodes already held stay held)').argument('<id>', 'autohold id')
    .action(async (id: string, _o, c: Command) => (await import('./commands/gate.ts')).autoholdDelete(globals(c), id));
  autoholdList(autohold.command('list'));
  autoholdDelete(autohold.command('delete'));
  autoholdList(program.command('autohold-list'));
  autoholdDelete(program.command('autohold-delete'));

  const node = program.command('node').description(`inspect and act on nodes. ${REMOTE}`);
  nodeList(node.command('list'), 'list nodes (Nodepool columns; --detail for more).');
  node.command('show')
    .description(`show every field of one node. ${REMOTE}`)
    .argument('<id>', 'node id')
    .option('--json', 'print JSON')
    .action(async (id: string, o, c: Command) => (await import('./commands/nodes.ts')).showNode(globals(c), id, o));
  nodeHold(node.command('hold'), 'hold a node for debugging: it leaves the pool until deleted.');
  nodeDelete(node.command('delete'), 'delete a node (its server is deleted by the launcher).');

  const request = program.command('request').description(`inspect node requests. ${REMOTE}`);
  requestList(request.command('list'), 'list node requests.');
  request.command('show')
    .description(`show one request and its nodes as its scheduler sees them. ${REMOTE}`)
    .argument('<id>', 'request id')
    .option('--json', 'print JSON')
    .action(async (id: string, o, c: Command) => (await import('./commands/requests.ts')).showRequest(globals(c), id, o));
  request.command('cancel')
    .description(`cancel a request: nodes set aside for it return to the pool (a fulfilled one is released as used). ${REMOTE}`)
    .argument('<id>', 'request id')
    .option('--json', 'print JSON')
    .action(async (id: string, o, c: Command) => (await import('./commands/requests.ts')).cancelRequest(globals(c), id, o));

  const label = program.command('label').description(`inspect labels. ${REMOTE}`);
  listing(label.command('list'), 'list labels: min-ready, ready, building, in-use and held nodes, providers.', 'listLabels');

  const provider = program.command('provider').description(`inspect providers. ${REMOTE}`);
  listing(provider.command('list'), 'list providers: health and why, nodes, max-servers, quota use and room, paused pools.', 'listProviders');
  providerInfo(provider.command('info'), "show a provider's status, nodes and image uploads.");
  providerErase(provider.command('erase'), "remove a provider's node records from the store (asks first).");

  program.command('status')
    .description(`one-screen summary: nodes by label, provider and state; waiting requests; providers; labels. ${REMOTE}`)
    .option('--json', 'print JSON')
    .action(async (o, c: Command) => (await import('./commands/overview.ts')).status(globals(c), o));

  const secret = program.command('secret').description('sealed secrets: values encrypted to the daemon\'s key');
  secret.command('keygen')
    .description("write the daemon's key pair (mode 0600) and its public half (<file>.pub)")
    .argument('[file]', 'key file (default: secrets.key-file of the configuration, else nodepool-secret.key)')
    .action(async (file: string | undefined, _o, c: Command) => (await import('./commands/secrets.ts')).keygen(globals(c), file));
  secret.command('seal')
    .description('read a value from standard input and print it sealed (sealed:v1:...) for nodepool.yaml, clouds.yaml or secure.yaml')
    .option('--public-key <file>', "the daemon's public key (default: <secrets.key-file>.pub of the configuration)")
    .action(async (o, c: Command) => (await import('./commands/secrets.ts')).sealValue(globals(c), o));

  const token = program.command('token').description('API tokens (the configuration keeps their hashes only)');
  token.command('new')
    .description('print a new token and the api.tokens entry for it')
    .requiredOption('--name <name>', "the holder's name (a requestor token's requests carry it as requestor)")
    .addOption(new Option('--role <role>', 'what it may do').choices(['admin', 'requestor', 'read']).makeOptionMandatory())
    .action(async (o) => (await import('./commands/secrets.ts')).tokenNew(o));
  token.command('hash')
    .description('read a token from standard input and print its hash for api.tokens')
    .action(async () => (await import('./commands/secrets.ts')).tokenHash());

  const config = program.command('config').description('work with the configuration file');
  configCheck(config.command('check'), 'validate a configuration file and report every problem (exit 1 on errors)');

  // Nodepool's own command names, kept so operators' habits and scripts carry over.
  nodeList(program.command('list'), 'same as `node list`.');
  nodeHold(program.command('hold'), 'same as `node hold`.');
  nodeDelete(program.command('delete'), 'same as `node delete`.');
  requestList(program.command('request-list'), 'same as `request list`.');
  configCheck(program.command('config-validate'), 'same as `config check`.');
  providerInfo(program.command('info'), 'same as `provider info`.');
  providerErase(program.command('erase'), 'same as `provider erase`.');
  listing(program.command('image-list'), 'list image uploads to providers (Nodepool columns).', 'listImages');
  listing(program.command('dib-image-list'), 'list local image builds (Nodepool columns).', 'listDibImages');

  program.command('builder')
    .description('run the image builder on the configured store: builds, uploads to every provider, validation, cleanup of old builds and leaked uploads')
    .option('--name <name>', 'name written in leases and as the builder of its builds (default <hostname>-builder)')
    .action(async (o, c: Command) => (await import('./commands/builder.ts')).builder(globals(c), o));
  const image = program.command('image').description(`disk images: builds and their uploads to providers. ${REMOTE}`);
  imageBuild(image.command('build'), 'build an image now (the builder starts at its next pass), then upload it everywhere.');
  listing(image.command('list'), 'list image uploads: build, upload, provider, image, provider image name and id, state, validation, age.', 'listImages');
  imageStatus(image.command('status'), 'list images: paused, pending build request, the build in use, the build in progress, uploads.');
  imageDelete(image.command('delete'), 'delete one upload (an upload of the newest build is made again; to roll back, delete the build).');
  imagePause(image.command('pause'), 'pause an image: no new builds or uploads; ready ones stay in use.', true);
  imagePause(image.command('unpause'), 'unpause an image.', false);
  image.command('logs')
    .description(`print a build's log. ${REMOTE}`)
    .argument('<build-id>', 'build id (dib-image list)')
    .action(async (id: string, _o, c: Command) => (await import('./commands/images.ts')).logs(globals(c), id));
  const dib = program.command('dib-image').description(`local image builds. ${REMOTE}`);
  listing(dib.command('list'), 'list builds: id, image, builder, formats, state, age.', 'listDibImages');
  dibImageDelete(dib.command('delete'), 'delete a build and all its uploads; deleting the newest rolls launches back to the previous one.');
  imageBuild(program.command('image-build'), 'same as `image build`.');
  imageDelete(program.command('image-delete'), 'same as `image delete`.');
  dibImageDelete(program.command('dib-image-delete'), 'same as `dib-image delete`.');
  imageStatus(program.command('image-status'), 'same as `image status`.');
  imagePause(program.command('image-pause'), 'same as `image pause`.', true);
  imagePause(program.command('image-unpause'), 'same as `image unpause`.', false);

  return program;
}

/** Runs the CLI with `argv` as in `process.argv` (node, script, args...); sets the exit status. */
export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander has already printed its message (or the help/version asked for).
      process.exitCode = err.code === 'commander.helpDisplayed' || err.code === 'commander.version' ? 0 : 2;
      return;
    }
    process.stderr.write(`nodepool: ${(err as Error).message}\n`);
    process.exitCode = exitCodeFor(err);
  }
}
