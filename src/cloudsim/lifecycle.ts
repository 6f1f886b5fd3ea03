/**
 * Moves servers through the states a real Nova shows (see openstack-samples/README.md):
 * BUILD/scheduling -> BUILD/spawning -> ACTIVE (ports, addresses and SSH appear here), or ERROR
 * with a fault, or BUILD for ever; DELETE -> task_state deleting -> DELETED. One timer per
 * pending step of each server, cleared on delete and on close; no polling loop.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { novaPort, removePort } from './neutron/network-ops.ts';
import type { CloudState, ServerRecord } from './state.ts';
import { generateHostKey, SshNode } from './ssh.ts';
import { attachBootVolumes, clearVolumeTimers, releaseBootVolumes } from './cinder/volume-ops.ts';

/** Share of the boot delay spent in `scheduling` before `spawning` (0.75 s of 2.5 s observed). */
const SCHEDULING_SHARE = 0.3;
/** Addresses to try when another process already listens on one. */
const BIND_ATTEMPTS = 64;

export class Lifecycle {
  private closed = false;

  constructor(private readonly cloud: CloudState) {}

  /** Starts the boot of a server just accepted with 202. */
  boot(s: ServerRecord): void {
    const delay = this.cloud.config.bootDelayMs;
    if (s.plan === 'fail') {
      // NoValidHost comes from the scheduler: the server never gets a host.
      this.after(s, delay, () => this.fail(s));
      return;
    }
    this.after(s, delay * SCHEDULING_SHARE, () => {
      this.cloud.change(s, { taskState: 'spawning', scheduled: true });
      if (s.plan === 'hang') return;
      this.after(s, delay * (1 - SCHEDULING_SHARE), () => {
        this.activate(s).catch(async (err: Error) => {
          await s.node?.close();
          this.cloud.logger.error({ cloud: this.cloud.name, server: s.id, err: err.message }, 'server could not start');
          if (s.status === 'BUILD' && s.taskState !== 'deleting') this.fail(s, { code: 500, message: `Build of instance ${s.id} aborted: ${err.message}` });
        });
      });
    });
  }

  /**
   * Accepts a DELETE: task_state deleting now, DELETED after the delete delay (or never, when
   * the faults make this delete stick).
   */
  delete(s: ServerRecord): void {
    if (s.taskState === 'deleting' || s.status === 'DELETED') return;
    this.clearTimers(s);
    this.cloud.change(s, { taskState: 'deleting' });
    // The guest goes away first: its SSH stops answering at once.
    void s.node?.close();
    if (this.cloud.plan.deleteSticks()) return;
    this.after(s, this.cloud.plan.deleteDelayMs() ?? this.cloud.config.deleteDelayMs, () => this.finishDelete(s));
  }

  /** Offline (connections reset, or calls never answered) also takes the nodes' SSH down. */
  async setOffline(mode: false | 'reset' | 'timeout'): Promise<void> {
    const was = this.cloud.offline;
    this.cloud.offline = mode;
    // Calls held while it did not answer end with the outage, as a client's timeout would end them.
    if (!mode) this.dropHeld();
    if (Boolean(was) === Boolean(mode)) return;
    const nodes = [...this.cloud.servers.values()].filter((s) => s.node && s.status === 'ACTIVE' && s.taskState !== 'deleting');
    await Promise.all(nodes.map((s) => (mode ? s.node!.suspend() : s.node!.resume())));
  }

  async close(): Promise<void> {
    this.closed = true;
    const closing: Promise<void>[] = [];
    for (const s of this.cloud.servers.values()) {
      this.clearTimers(s);
      if (s.node) closing.push(s.node.close());
    }
    clearVolumeTimers(this.cloud);
    this.dropHeld();
    await Promise.all(closing);
  }

  private dropHeld(): void {
    for (const socket of this.cloud.heldSockets) socket.destroy();
    this.cloud.heldSockets.clear();
  }

  private fail(s: ServerRecord, fault = s.planFault ?? { code: 500, message: 'No valid host was found. ' }): void {
    this.cloud.change(s, {
      status: 'ERROR', vmState: 'error', taskState: null, powerState: 0,
      fault: { code: fault.code, message: fault.message, created: Date.now() },
    });
  }

  private async activate(s: ServerRecord): Promise<void> {
    const cfg = this.cloud.config;
    const withSsh = cfg.ssh && s.networkIds.length > 0;
    let node: SshNode | undefined;
    const ips: string[] = [];
    // Deleted, or the simulator closed, while the node was being set up: give everything back.
    const abandoned = () => this.closed || s.taskState === 'deleting' || s.status !== 'BUILD';
    try {
      if (withSsh) {
        const key = generateHostKey();
        // Made by the first command run on the node (./ssh.ts): most nodes of a burst are only scanned.
        s.scratchDir = path.join(this.cloud.stateDir, this.cloud.name, s.id);
        node = new SshNode({
          id: s.id, hostKey: key.privateKey, authorizedKey: s.authorizedKey, cwd: s.scratchDir,
          logger: this.cloud.logger, readyAt: Date.now() + cfg.sshDelayMs,
        });
        s.node = node;
        s.hostKey = key.publicKey;
      }
      for (let i = 0; i < s.networkIds.length && !abandoned(); i++) ips.push(node ? await this.bind(node) : this.cloud.addresses.allocate());
    } catch (err) {
      if (!abandoned()) {
        for (const ip of ips) this.cloud.addresses.release(ip);
        throw err;
      }
    }
    if (abandoned()) {
      await node?.close();
      for (const ip of ips) this.cloud.addresses.release(ip);
      return;
    }
    s.portIds = s.networkIds.map((networkId, i) => novaPort(this.cloud, networkId, ips[i], s.id).id);
    attachBootVolumes(this.cloud, s);
    if (node && this.cloud.offline) await node.suspend();
    this.cloud.change(s, { status: 'ACTIVE', vmState: 'active', taskState: null, powerState: 1, launchedAt: Date.now() });
  }

  /** Listens at the next free address; skips addresses another process holds. */
  private async bind(node: SshNode): Promise<string> {
    for (let i = 0; ; i++) {
      const ip = this.cloud.addresses.allocate();
      try {
        await node.listen(ip, this.cloud.config.sshPort);
        return ip;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'EADDRINUSE' || i >= BIND_ATTEMPTS) {
          this.cloud.addresses.release(ip);
          throw err;
        }
        this.cloud.addresses.markForeign(ip);
      }
    }
  }

  /**
   * Nova deletes the ports it made; when the faults leak them they stay, DOWN, still naming the
   * server (as when Nova fails to unbind them), floating IPs and all.
   */
  private finishDelete(s: ServerRecord): void {
    const leak = s.portIds.length > 0 && this.cloud.plan.leaksPorts();
    for (const id of [...s.portIds]) {
      const p = this.cloud.ports.get(id);
      if (!leak) removePort(this.cloud, id);
      else if (p) Object.assign(p, { status: 'DOWN', updatedAt: Date.now(), revision: p.revision + 1 });
    }
    releaseBootVolumes(this.cloud, s);
    if (s.scratchDir) void rm(s.scratchDir, { recursive: true, force: true });
    const now = Date.now();
    this.cloud.change(s, { status: 'DELETED', vmState: 'deleted', taskState: null, powerState: 0, terminatedAt: now, deletedAt: now });
    this.cloud.rememberDeleted(s);
  }

  private after(s: ServerRecord, ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      s.timers.delete(t);
      fn();
    }, Math.max(0, ms));
    s.timers.add(t);
  }

  private clearTimers(s: ServerRecord): void {
    for (const t of s.timers) clearTimeout(t);
    s.timers.clear();
  }
}
