import net from 'node:net';
import ssh2 from 'ssh2';
import type { Connection, ServerChannel } from 'ssh2';
import type { Logger } from '../log.ts';
import type { StreamEvent } from './events.ts';
import type { Gerrit } from './gerrit.ts';

const { Server, utils } = ssh2;

/**
 * Gerrit's SSH daemon, the part a CI system uses: `gerrit stream-events [-s TYPE]…` (one JSON
 * event per line, for as long as the session stays open) and `gerrit version`. Any account may
 * log in with a key that signs correctly (the simulator keeps no SSH keys); an unknown user is
 * refused, as Gerrit refuses it.
 */
export class GerritSshd {
  private readonly server: InstanceType<typeof Server>;
  private readonly listener: net.Server;
  private readonly sockets = new Set<net.Socket>();
  port = 0;

  constructor(private readonly gerrit: Gerrit, hostKey: string, private readonly logger: Logger) {
    this.server = new Server({ hostKeys: [hostKey] }, (client) => this.onClient(client));
    this.listener = net.createServer((sock) => {
      sock.setNoDelay(true);
      this.sockets.add(sock);
      sock.on('close', () => this.sockets.delete(sock));
      sock.on('error', () => {});
      this.server.injectSocket(sock);
    });
  }

  async listen(host: string, port: number): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.listener.once('error', reject);
      this.listener.listen(port, host, () => { this.listener.off('error', reject); resolve(); });
    });
    this.port = (this.listener.address() as net.AddressInfo).port;
    return this.port;
  }

  /** Drops every connection (a stream reader must reconnect), keeps listening. */
  dropAll(): number {
    const n = this.sockets.size;
    for (const s of this.sockets) s.destroy();
    return n;
  }

  async close(): Promise<void> {
    this.dropAll();
    await new Promise<void>((r) => this.listener.close(() => r()));
  }

  private onClient(client: Connection): void {
    let user = '';
    client.on('error', (err) => this.logger.debug({ err: err.message }, 'gerrit ssh client error'));
    client.on('authentication', (ctx) => {
      user = ctx.username;
      if (!this.gerrit.findAccount(ctx.username)) return ctx.reject();
      if (ctx.method !== 'publickey') return ctx.reject(['publickey']);
      if (!ctx.signature || !ctx.blob) return ctx.accept();
      const parsed = utils.parseKey(ctx.key.data);
      const key = Array.isArray(parsed) ? parsed[0] : parsed;
      if (key instanceof Error || key.verify(ctx.blob, ctx.signature, ctx.hashAlgo) !== true) return ctx.reject(['publickey']);
      ctx.accept();
    });
    client.on('session', (accept) => {
      const session = accept();
      session.on('pty', (ok) => ok?.());
      session.on('shell', (_ok, reject) => reject?.());
      session.on('exec', (ok, _reject, info) => this.exec(ok(), info.command, user));
    });
  }

  private exec(stream: ServerChannel, command: string, user: string): void {
    const args = command.trim().split(/\s+/);
    if (args[0] === 'gerrit' && args[1] === 'version') {
      stream.write('gerrit version 3.9.1-sim\n');
      stream.exit(0);
      stream.end();
      return;
    }
    if (args[0] === 'gerrit' && args[1] === 'stream-events') {
      const types = new Set<string>();
      for (let i = 2; i < args.length; i++) {
        if ((args[i] === '-s' || args[i] === '--subscribe') && args[i + 1]) types.add(args[++i]!);
      }
      this.logger.info({ user, subscribe: [...types] }, 'stream-events reader connected');
      const unsubscribe = this.gerrit.subscribe((e: StreamEvent) => {
        if (e.type === '__raw__') stream.write(`${String(e.line)}\n`);
        else if (!types.size || types.has(e.type)) stream.write(`${JSON.stringify(e)}\n`);
      });
      stream.on('close', unsubscribe);
      stream.on('error', unsubscribe);
      return;
    }
    stream.stderr.write(`fatal: ${args[0] === 'gerrit' ? `gerrit: ${args[1] ?? ''}: not found` : `${args[0]}: not found`}\n`);
    stream.exit(1);
    stream.end();
  }
}
