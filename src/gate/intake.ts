import { z } from 'zod';
import { GateOrderInput } from '../api/contract.ts';
import type { Logger } from '../log.ts';
import type { GateConfig, PipelineConfig } from './config/types.ts';
import { dependsOn } from './depends-on.ts';
import { parseEvent, type GerritEvent } from './gerrit/events.ts';
import { changeRefOf, votesOf, type GerritRest } from './gerrit/rest.ts';
import type { ChangeRef, GateEventRecord } from './model.ts';
import { matchingPipelines, unmetRequirement } from './triggers.ts';

/**
 * What an event does: a Gerrit event (stream, webhook or catch-up) enqueues its change into the
 * pipelines whose triggers match and whose requirements it meets, and a new patch set, a merge
 * or an abandon takes the change's older items out; an operator's order enqueues or dequeues.
 * Every event ends with an outcome line, kept with the event (and shown to the operator who
 * asked).
 */

/** An operator's order, as the API stores it (`nodepool gate enqueue|dequeue`). */
export const OperatorOrder = GateOrderInput.extend({ type: z.enum(['enqueue', 'dequeue']) });
export type OperatorOrder = z.output<typeof OperatorOrder>;

/** What the scheduler offers the intake. */
export interface IntakeHost {
  config: GateConfig;
  logger: Logger;
  rest(connection: string): GerritRest;
  /** A change as Gerrit has it now (read once per batch of events). */
  change(connection: string, id: number | string): ReturnType<GerritRest['changeRef']>;
  /** Whether an active item of this change and patch set is in the pipeline. */
  isQueued(pipeline: string, change: number, patchset: number): boolean;
  enqueue(pipeline: PipelineConfig, change: ChangeRef, needs: ChangeRef[]): Promise<void>;
  /** Takes the change's items out without a report; returns how many. `olderThan` keeps that patch set and newer. */
  remove(change: number, o: { pipeline?: string; patchset?: number; olderThan?: number; result: 'DEQUEUED' | 'SUPERSEDED'; reason: string }): Promise<number>;
  /** A change merged (here or elsewhere): a Depends-On on it is met. */
  noteMerged(change: number): void;
}

/** The change an event is about (to read it from Gerrit ahead of handling), or null. */
export function eventChange(e: GateEventRecord): { connection: string; number: number } | null {
  if (e.source === 'operator') return null;
  const parsed = parseEvent(e.body);
  if (!parsed.ok || !parsed.event || parsed.event.type === 'ref-updated') return null;
  return { connection: e.source.split(':')[1] ?? '', number: parsed.event.change.number };
}

export async function handleEvent(host: IntakeHost, e: GateEventRecord): Promise<string> {
  if (e.source === 'operator') return handleOrder(host, e.body);
  const connection = e.source.split(':')[1] ?? host.config.connections[0]!.name;
  const parsed = parseEvent(e.body);
  if (!parsed.ok) return `error: ${parsed.error}`;
  if (!parsed.event) return `ignored: ${parsed.ignored}`;
  return handleGerrit(host, parsed.event, connection);
}

async function handleGerrit(host: IntakeHost, ev: GerritEvent, connection: string): Promise<string> {
  const notes: string[] = [];
  if (ev.type === 'ref-updated') return 'ignored: ref-updated';
  const n = ev.change.number;
  if (ev.type === 'patchset-created') {
    for (const p of host.config.pipelines.filter((x) => x.dequeueOnNewPatchset)) {
      const gone = await host.remove(n, { pipeline: p.name, olderThan: ev.patchSet.number, result: 'SUPERSEDED', reason: `patch set ${ev.patchSet.number} uploaded` });
      if (gone) notes.push(`${gone} older item(s) removed from ${p.name}`);
    }
  }
  if (ev.type === 'change-merged' || ev.type === 'change-abandoned') {
    if (ev.type === 'change-merged') host.noteMerged(n);
    const gone = await host.remove(n, { result: 'SUPERSEDED', reason: ev.type === 'change-merged' ? 'merged' : 'abandoned' });
    if (gone) notes.push(`${gone} item(s) removed: change ${ev.type === 'change-merged' ? 'merged' : 'abandoned'}`);
  }
  const pipelines = matchingPipelines(host.config.pipelines, ev, connection);
  if (!pipelines.length) return notes.length ? notes.join('; ') : `ignored: no pipeline is triggered by this ${ev.type}`;
  const project = host.config.projects.get(ev.change.project);
  if (!project) return `ignored: project ${ev.change.project} is not in the gate configuration`;
  const eventPatchset = 'patchSet' in ev && ev.patchSet ? ev.patchSet.number : null;
  let fetched: Awaited<ReturnType<GerritRest['changeRef']>>;
  try {
    fetched = await host.change(connection, n);
  } catch (err) {
    return `error: cannot read change ${n} from Gerrit: ${(err as Error).message}`;
  }
  const { ref, info } = fetched;
  if (eventPatchset !== null && eventPatchset !== ref.patchset) return `ignored: patch set ${eventPatchset} of ${n} is not the current one (${ref.patchset})`;
  for (const p of pipelines) {
    if (!project.pipelines.get(p.name)?.length) { notes.push(`${p.name}: no jobs for ${ref.project}`); continue; }
    const unmet = unmetRequirement(p, connection, votesOf(info), info.status === 'NEW');
    if (unmet) { notes.push(`${p.name}: not enqueued, needs ${unmet}`); continue; }
    if (host.isQueued(p.name, n, ref.patchset)) { notes.push(`${p.name}: ${n},${ref.patchset} already queued`); continue; }
    const needs = await resolveNeeds(host, connection, ref);
    if (typeof needs === 'string') { notes.push(`${p.name}: ${needs}`); continue; }
    await host.enqueue(p, ref, needs);
    notes.push(`enqueued ${n},${ref.patchset} into ${p.name}`);
  }
  return notes.join('; ');
}

/** The open changes a change's Depends-On footers name (merged ones are met already). */
async function resolveNeeds(host: IntakeHost, connection: string, change: ChangeRef): Promise<ChangeRef[] | string> {
  const out: ChangeRef[] = [];
  for (const d of dependsOn(change.message)) {
    const id = 'number' in d ? d.number : d.changeId;
    try {
      const { ref, info } = await host.change(connection, id);
      if (info.status === 'MERGED') continue;
      if (info.status === 'ABANDONED') return `depends on change ${ref.number}, which is abandoned`;
      out.push(ref);
    } catch (err) {
      return `cannot read change ${id} it depends on: ${(err as Error).message}`;
    }
  }
  return out;
}

async function handleOrder(host: IntakeHost, body: unknown): Promise<string> {
  const r = OperatorOrder.safeParse(body);
  if (!r.success) return `error: ${r.error.issues[0]!.path.join('.') || 'order'}: ${r.error.issues[0]!.message}`;
  const o = r.data;
  const pipeline = host.config.pipelines.find((p) => p.name === o.pipeline);
  if (!pipeline) return `error: pipeline: unknown pipeline "${o.pipeline}" (pipelines: ${host.config.pipelines.map((p) => p.name).join(', ')})`;
  const [num, ps] = o.change.split(',').map(Number) as [number, number | undefined];
  if (o.type === 'dequeue') {
    const gone = await host.remove(num, { pipeline: pipeline.name, patchset: ps, result: 'DEQUEUED', reason: 'dequeued by an operator' });
    return gone ? `dequeued ${o.change} from ${pipeline.name}` : `error: change ${o.change} is not in pipeline ${pipeline.name}`;
  }
  if (o.project !== undefined && !host.config.projects.has(o.project)) return `error: project: ${o.project} is not in the gate configuration`;
  const projectConn = o.project ? host.config.projects.get(o.project)!.connection : host.config.connections[0]!.name;
  let fetched: Awaited<ReturnType<GerritRest['changeRef']>>;
  try {
    fetched = await host.change(projectConn, num);
  } catch (err) {
    return `error: change: cannot read change ${num} from Gerrit: ${(err as Error).message}`;
  }
  const { ref } = fetched;
  if (o.project !== undefined && ref.project !== o.project) return `error: project: change ${num} belongs to ${ref.project}, not ${o.project}`;
  const project = host.config.projects.get(ref.project);
  if (!project) return `error: project: ${ref.project} (of change ${num}) is not in the gate configuration`;
  if (ps !== undefined && ps !== ref.patchset) return `error: change: patch set ${ps} of ${num} is not the current one (${ref.patchset})`;
  if (!project.pipelines.get(pipeline.name)?.length) return `error: pipeline: ${ref.project} has no jobs in ${pipeline.name}`;
  if (host.isQueued(pipeline.name, num, ref.patchset)) return `${num},${ref.patchset} is already in ${pipeline.name}`;
  const needs = await resolveNeeds(host, projectConn, ref);
  if (typeof needs === 'string') return `error: change: ${needs}`;
  await host.enqueue(pipeline, ref, needs);
  return `enqueued ${num},${ref.patchset} into ${pipeline.name}`;
}
