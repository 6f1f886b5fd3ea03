/**
 * Rules across entries of the gate configuration that the schema of one entry cannot express:
 * unique names, references (a trigger's connection, a job's parent and nodeset, a project's
 * templates, pipelines and jobs), no inheritance cycles. Like ../../config/cross-checks.ts they
 * read the plain data, so they run even when the schema found problems elsewhere.
 */
import type { Finding } from '../../config/cross-checks.ts';
import type { PathSegment } from '../../config/yaml-source.ts';

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => v !== null && typeof v === 'object' && !Array.isArray(v);
const list = (v: unknown): { i: number; v: Rec }[] => (Array.isArray(v) ? v.flatMap((x, i) => (isRec(x) ? [{ i, v: x }] : [])) : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

const PROJECT_KEYS = new Set(['name', 'connection', 'queue', 'templates', 'default-branch', 'description']);

export function checkGate(data: unknown, at: PathSegment[]): Finding[] {
  const out: Finding[] = [];
  const root = isRec(data) ? data : {};
  const err = (path: PathSegment[], message: string, where: 'key' | 'value' = 'value') => out.push({ path: [...at, ...path], at: where, message });

  const names = (section: string, what: string): Map<string, Rec> => {
    const seen = new Map<string, { i: number; v: Rec }>();
    for (const e of list(root[section])) {
      const n = str(e.v.name);
      if (n === undefined) continue;
      const first = seen.get(n);
      if (first) out.push({ path: [...at, section, e.i, 'name'], at: 'value', message: `${what} "${n}" is defined twice`, firstAt: [...at, section, first.i, 'name'] });
      else seen.set(n, e);
    }
    return new Map([...seen].map(([k, e]) => [k, e.v]));
  };
  const connections = names('connections', 'connection');
  const pipelines = names('pipelines', 'pipeline');
  const nodesets = names('nodesets', 'nodeset');
  const jobs = names('jobs', 'job');
  const templates = names('project-templates', 'project template');
  names('projects', 'project');

  const connection = (path: PathSegment[], name: string) => {
    if (!connections.has(name)) err(path, `unknown connection "${name}"${connections.size ? ` (connections: ${[...connections.keys()].join(', ')})` : ''}`, 'key');
  };
  for (const p of list(root.pipelines)) {
    for (const section of ['trigger', 'require', 'success', 'failure', 'merge-conflict']) {
      if (isRec(p.v[section])) for (const c of Object.keys(p.v[section] as Rec)) connection(['pipelines', p.i, section, c], c);
    }
  }

  for (const n of list(root.nodesets)) checkNodeset(n.v, ['nodesets', n.i], err);
  for (const j of list(root.jobs)) {
    const parent = str(j.v.parent);
    if (parent !== undefined && !jobs.has(parent)) err(['jobs', j.i, 'parent'], `unknown parent job "${parent}"`);
    const nodeset = j.v.nodeset;
    if (typeof nodeset === 'string' && !nodesets.has(nodeset)) err(['jobs', j.i, 'nodeset'], `unknown nodeset "${nodeset}"`);
    if (isRec(nodeset)) checkNodeset(nodeset, ['jobs', j.i, 'nodeset'], err);
    // A parent chain that comes back to the job.
    const seen = new Set<string>([str(j.v.name) ?? '']);
    for (let cur = parent; cur !== undefined && jobs.has(cur); cur = str(jobs.get(cur)!.parent)) {
      if (seen.has(cur)) { err(['jobs', j.i, 'parent'], `parent chain of job "${str(j.v.name)}" loops back to "${cur}"`); break; }
      seen.add(cur);
    }
  }

  const jobRefs = (pipelineMap: Rec, path: PathSegment[], allowed: (k: string) => boolean) => {
    for (const [key, value] of Object.entries(pipelineMap)) {
      if (!allowed(key)) continue;
      if (!pipelines.has(key)) { err([...path, key], `unknown pipeline "${key}"${pipelines.size ? ` (pipelines: ${[...pipelines.keys()].join(', ')})` : ''}`, 'key'); continue; }
      if (!isRec(value) || !Array.isArray(value.jobs)) continue;
      value.jobs.forEach((ref: unknown, i: number) => {
        const jobName = typeof ref === 'string' ? ref : isRec(ref) ? Object.keys(ref)[0] : undefined;
        if (jobName === undefined) return;
        const job = jobs.get(jobName);
        if (!job) err([...path, key, 'jobs', i], `unknown job "${jobName}"`);
        else if (job.abstract === true) err([...path, key, 'jobs', i], `job "${jobName}" is abstract: only a parent for other jobs`);
      });
    }
  };
  for (const t of list(root['project-templates'])) jobRefs(t.v, ['project-templates', t.i], (k) => k !== 'name' && k !== 'description');
  for (const p of list(root.projects)) {
    const c = str(p.v.connection);
    if (c !== undefined) connection(['projects', p.i, 'connection'], c);
    if (Array.isArray(p.v.templates)) {
      p.v.templates.forEach((t: unknown, i: number) => {
        if (typeof t === 'string' && !templates.has(t)) err(['projects', p.i, 'templates', i], `unknown project template "${t}"`);
      });
    }
    jobRefs(p.v, ['projects', p.i], (k) => !PROJECT_KEYS.has(k));
  }
  return out;
}

function checkNodeset(n: Rec, path: PathSegment[], err: (p: PathSegment[], m: string) => void): void {
  const nodeNames = new Set<string>();
  for (const node of list(n.nodes)) {
    const name = str(node.v.name);
    if (name === undefined) continue;
    if (nodeNames.has(name)) err([...path, 'nodes', node.i, 'name'], `node "${name}" is named twice in the nodeset`);
    nodeNames.add(name);
  }
  for (const g of list(n.groups)) {
    if (!Array.isArray(g.v.nodes)) continue;
    g.v.nodes.forEach((m: unknown, i: number) => {
      if (typeof m === 'string' && !nodeNames.has(m)) err([...path, 'groups', g.i, 'nodes', i], `group "${str(g.v.name)}" names node "${m}", which is not in the nodeset`);
    });
  }
}
