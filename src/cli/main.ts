import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { NODE_STATES, REQUEST_STATES } from '../model.ts';
import { exitCodeFor } from '../ops/errors.ts';
import type { GlobalOptions } from './context.ts';

/**
 * The `nodepool` command. Every command is declared here, in one place, and each loads its own
 * code only when it runs, so `nodepool node list` never loads the launcher or the simulator.
 * Exit status: 0 ok, 1 failed, 2 usage.
 */

const REMOTE = 'Talks to the running system at --url.';

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

function version(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
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
    .option('--expires <seconds>', 'end the hold after this many seconds (default: until deleted)', intArg('--expires', 1))
    .action(async (id: string, o, c: Command) => (await import('./commands/nodes.ts')).holdNode(globals(c), id, o));
}

function nodeDelete(cmd: Command, summary: string): Command {
  return cmd.description(`${summary} ${REMOTE}`)
    .argument('<id>', 'node id')
    .action(async (id: string, _o, c: Command) => (await import('./commands/nodes.ts')).deleteNode(globals(c), id));
}

function requestList(cmd: Command, summary: string): Command {
  return cmd.description(`${summary} ${REMOTE}`)
    .addOption(new Option('--state <state>', 'only requests in this state').choices(REQUEST_STATES))
    .option('--json', 'print JSON (snake_case keys, age in seconds)')
    .action(async (o, c: Command) => (await import('./commands/requests.ts')).listRequests(globals(c), o));
}

function configCheck(cmd: Command, summary: string): Command {
  return cmd.description(summary)
    .argument('[file]', 'configuration file (default: --config)')
    .action(async (file: string | undefined, _o, c: Command) =>
      (await import('./commands/config-check.ts')).configCheck(file ?? globals(c).config));
}

export function buildProgram(): Command {
  const program = new Command('nodepool')
    .description('Elastic test-node pool manager for CI, in the style of OpenStack Nodepool.')
    .version(version())
    .option('-c, --config <file>', 'configuration file', process.env.NODEPOOL_CONFIG || 'nodepool.yaml')
    .option('--url <url>', 'API of the running system (default: http://<api.listen>:<api.port> from the config)')
    // Throw instead of exiting, so main() maps every usage error to exit status 2; subcommands
    // created below with .command() inherit this.
    .exitOverride()
    .showHelpAfterError('(nodepool --help shows the commands)')
    .addHelpText('after', [
      '',
      'The node, request, list, hold, delete and request-list commands talk to the running system',
      '(started by `nodepool run`) over its HTTP API at --url; without --url, the address comes',
      'from the `api` section of the configuration.',
      '',
      'Exit status: 0 ok, 1 failed, 2 usage error.',
    ].join('\n'));

  program.command('run')
    .description('run every role (launcher, API, and the OpenStack simulator for clouds not in clouds.yaml) in one process')
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
    .description('serve a local OpenStack API simulator (Keystone, Nova, Glance, Neutron) with SSH-reachable servers')
    .option('--host <address>', 'address of the HTTP APIs', '127.0.0.1')
    .option('--port <n>', 'HTTP port (0 = any free port)', intArg('--port'))
    .option('--clouds <names>', 'comma-separated cloud names to simulate', (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean))
    .option('--boot-delay <seconds>', 'seconds from create to ACTIVE', secondsArg)
    .option('--delete-delay <seconds>', 'seconds from DELETE to gone', secondsArg)
    .option('--ssh-port <n>', 'SSH port of every simulated server', intArg('--ssh-port'))
    .option('--clouds-yaml <file>', 'write a clouds.yaml for the simulated clouds to this file')
    .action(async (o) => (await import('./commands/cloud-sim.ts')).cloudSim(o));

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

  const config = program.command('config').description('work with the configuration file');
  configCheck(config.command('check'), 'validate a configuration file and report every problem (exit 1 on errors)');

  // Nodepool's own command names, kept so operators' habits and scripts carry over.
  nodeList(program.command('list'), 'same as `node list`.');
  nodeHold(program.command('hold'), 'same as `node hold`.');
  nodeDelete(program.command('delete'), 'same as `node delete`.');
  requestList(program.command('request-list'), 'same as `request list`.');
  configCheck(program.command('config-validate'), 'same as `config check`.');

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
