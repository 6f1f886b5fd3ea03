import type { GateItemStatus, GateStatus } from '../../api/contract.ts';
import { createLogger } from '../../log.ts';
import { UsageError } from '../../ops/errors.ts';
import { duration } from '../../gate/report.ts';
import { apiClient, write, type GlobalOptions } from '../context.ts';
import { untilSignal } from '../signals.ts';

/** `nodepool gate` (the role), `gate status`, `gate enqueue`, `gate dequeue`, `autohold add|list|delete`. */

export async function gateRole(g: GlobalOptions, o: { name?: string; port?: number }): Promise<void> {
  const { loadConfig } = await import('../../config/load.ts');
  const { startGateRole } = await import('../../gate/role.ts');
  const config = loadConfig(g.config);
  if (!config.gate) throw new UsageError(`${g.config} has no gate section (gate: followed by the section, or gate: gate.yaml)`);
  const logger = createLogger();
  const role = await startGateRole({ config, logger, name: o.name, port: o.port });
  write(`nodepool: gate ${config.gate.name} ${role.gate.scheduler ? 'acting' : 'waiting for the lease'}; logs and status at ${role.url}`);
  const sig = await untilSignal();
  logger.info({ signal: sig }, 'stopping');
  await role.stop();
}

function itemLine(i: GateItemStatus, now: number): string {
  const age = duration(now - i.enqueue_time);
  const failing = i.failing_reasons.length ? `  failing: ${i.failing_reasons.join('; ')}` : '';
  const lines = [`  ${i.id.padEnd(8)} ${i.project.padEnd(20)} ${i.state.padEnd(9)} ${age.padStart(9)}${i.needs.length ? `  needs ${i.needs.join(' ')}` : ''}${failing}`];
  for (const j of i.jobs) {
    const took = j.elapsed_time !== null ? duration(j.elapsed_time) : '';
    const left = j.state !== 'done' && j.remaining_time !== null ? ` (~${duration(j.remaining_time)} left)` : '';
    lines.push(`      ${j.name.padEnd(26)} ${(j.result ?? j.state).padEnd(12)} ${took.padStart(9)}${left}${j.voting ? '' : ' (non-voting)'}  ${j.report_url ?? ''}`);
  }
  return lines.join('\n');
}

export function renderGateStatus(s: GateStatus): string {
  const out: string[] = [];
  for (const p of s.pipelines) {
    const items = p.change_queues.reduce((n, q) => n + q.heads.flat().length, 0);
    out.push(`${p.name} (${p.manager}): ${items} item${items === 1 ? '' : 's'}`);
    for (const q of p.change_queues) {
      if (p.manager === 'dependent') out.push(` queue ${q.name}`);
      for (const i of q.heads.flat()) out.push(itemLine(i, s.now));
    }
  }
  if (s.recent.length) {
    out.push('recently reported');
    for (const r of s.recent.slice(0, 10)) out.push(`  ${r.id.padEnd(8)} ${r.project.padEnd(20)} ${r.pipeline.padEnd(10)} ${r.result ?? ''}${r.reason ? `: ${r.reason}` : ''}`);
  }
  out.push(`events waiting: ${s.trigger_event_queue.length}`);
  return out.join('\n');
}

export async function status(g: GlobalOptions, o: { json?: boolean }): Promise<void> {
  const s = await (await apiClient(g)).gateStatus();
  write(o.json ? JSON.stringify(s) : renderGateStatus(s));
}

/** Queues the order, then waits (up to `wait` seconds) for the scheduler to carry it out and prints what came of it. */
export async function order(g: GlobalOptions, type: 'enqueue' | 'dequeue', o: { change: string; pipeline: string; project?: string; wait?: number }): Promise<void> {
  const client = await apiClient(g);
  const queued = await client.gateOrder(type, { change: o.change, pipeline: o.pipeline, project: o.project });
  const deadline = Date.now() + (o.wait ?? 30) * 1000;
  let e = queued;
  while (!e.processed && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    e = await client.gateEvent(queued.event);
  }
  if (!e.processed) {
    write(`order ${queued.event} queued; the gate has not carried it out yet (is \`nodepool gate\` running?)`);
    process.exitCode = 1;
    return;
  }
  if (e.outcome?.startsWith('error')) {
    process.stderr.write(`nodepool: ${e.outcome.replace(/^error: /, '')}\n`);
    process.exitCode = 1;
    return;
  }
  write(e.outcome ?? '');
}

export async function autoholdAdd(g: GlobalOptions, o: { job: string; reason: string; project?: string; change?: number; count?: number; json?: boolean }): Promise<void> {
  const h = await (await apiClient(g)).addAutohold({ job: o.job, reason: o.reason, project: o.project, change: o.change, count: o.count ?? 1 });
  write(o.json ? JSON.stringify(h) : `autohold ${h.id}: the next ${h.count} failed build(s) of ${h.job}${h.project ? ` in ${h.project}` : ''}${h.change ? ` for change ${h.change}` : ''} keep their nodes (${h.reason})`);
}

export async function autoholdList(g: GlobalOptions, o: { json?: boolean }): Promise<void> {
  const { formatTable } = await import('../../status/format.ts');
  const list = await (await apiClient(g)).autoholds();
  write(o.json ? JSON.stringify(list) : formatTable(['ID', 'Project', 'Job', 'Change', 'Count', 'Held', 'Reason'],
    list.map((h) => [h.id, h.project ?? '', h.job, h.change === null ? '' : String(h.change), String(h.count), String(h.held), h.reason])));
}

export async function autoholdDelete(g: GlobalOptions, id: string): Promise<void> {
  await (await apiClient(g)).deleteAutohold(id);
  write(`autohold ${id} deleted`);
}
