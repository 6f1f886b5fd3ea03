import { isAbsolute, resolve as resolvePath } from 'node:path';
import type { GateYaml } from './schema.ts';
import type {
  ApprovalSpec, GateConfig, JobConfig, NodesetConfig, PipelineConfig, ProjectConfig, ProjectJob, ReporterConfig, StepConfig, TriggerConfig,
} from './types.ts';

/** From the validated YAML to the GateConfig the gate reads; `baseDir` anchors relative paths. */
export function resolveGate(y: GateYaml, path: string | null, baseDir: string): GateConfig {
  const at = (p: string) => (isAbsolute(p) ? p : resolvePath(baseDir, p));
  const nodesets = new Map(y.nodesets.map((n) => [n.name, { nodes: n.nodes, groups: n.groups }]));
  const pipelineNames = new Set(y.pipelines.map((p) => p.name));
  return {
    name: y.name,
    path,
    nodepool: {
      url: y.nodepool.url ?? null, token: y.nodepool.token ?? null, requestor: y.nodepool.requestor,
      heartbeatIntervalMs: y.nodepool['heartbeat-interval'] * 1000, nodeTimeoutMs: y.nodepool['node-timeout'] * 1000,
    },
    executor: {
      maxBuilds: y.executor['max-builds'], sshKeyFile: y.executor['ssh-key'] ? at(y.executor['ssh-key']) : null,
      workspaceDir: at(y.executor['workspace-dir']), logDir: at(y.executor['log-dir']), defaultTimeoutMs: y.executor['default-timeout'] * 1000,
      holdExpirationSeconds: y.executor['hold-expiration'],
    },
    web: { listen: y.web.listen, port: y.web.port, logUrl: y.web['log-url'] ?? null, webhookToken: y.web['webhook-token'] ?? null },
    connections: y.connections.map((c) => {
      const httpUrl = (c['http-url'] ?? `http://${c.server}:8080`).replace(/\/+$/, '');
      return {
        name: c.name, server: c.server, port: c.port, user: c.user, sshKeyFile: c.sshkey ? at(c.sshkey) : null, password: c.password ?? null,
        hostKeys: c['host-key'] ?? [],
        httpUrl, gitUrl: c['git-url'] ?? `${httpUrl}/{project}`, stream: c.stream, simulated: c.simulated, demoChange: c['demo-change'],
      };
    }),
    pipelines: y.pipelines.map(resolvePipeline),
    jobs: resolveJobs(y, nodesets),
    projects: new Map(y.projects.map((p) => [p.name, resolveProject(y, p, pipelineNames)])),
  };
}

/** `(?i)` at the start (Zuul's and Python's spelling) becomes the `i` flag. */
export function compile(re: string): RegExp {
  return re.startsWith('(?i)') ? new RegExp(re.slice(4), 'i') : new RegExp(re);
}

function approvals(list: Record<string, number | number[]>): ApprovalSpec[] {
  return Object.entries(list).map(([label, v]) => ({ label, values: Array.isArray(v) ? v : [v] }));
}

function reporters(r: GateYaml['pipelines'][number]['success']): ReporterConfig[] {
  return Object.entries(r).map(([connection, { submit, ...labels }]) => ({
    connection, submit, labels: Object.fromEntries(Object.entries(labels).filter((e): e is [string, number] => typeof e[1] === 'number')),
  }));
}

const PRIORITY = { high: 50, normal: 100, low: 200 } as const;

function resolvePipeline(p: GateYaml['pipelines'][number]): PipelineConfig {
  const triggers: TriggerConfig[] = Object.entries(p.trigger).flatMap(([connection, events]) => events.map((e) => ({
    connection, event: e.event, branch: (e.branch ?? []).map(compile), comment: (e.comment ?? []).map(compile),
    approval: (e.approval ?? []).map(approvals), username: (e.username ?? []).map(compile),
  })));
  const failure = reporters(p.failure);
  return {
    name: p.name, manager: p.manager, description: p.description ?? null, triggers,
    require: Object.entries(p.require).map(([connection, r]) => ({ connection, approval: r.approval.flatMap(approvals), open: r.open })),
    success: reporters(p.success), failure, mergeConflict: p['merge-conflict'] ? reporters(p['merge-conflict']) : failure,
    priority: PRIORITY[p.precedence], dequeueOnNewPatchset: p['dequeue-on-new-patchset'],
  };
}

type YamlJob = GateYaml['jobs'][number];
const DEFAULT_NODESET: NodesetConfig = { nodes: [], groups: [] };

/** Each job with its parents' attributes filled in where it sets none (the nearest ancestor wins). */
function resolveJobs(y: GateYaml, nodesets: Map<string, NodesetConfig>): Map<string, JobConfig> {
  const byName = new Map(y.jobs.map((j) => [j.name, j]));
  const chain = (j: YamlJob): YamlJob[] => {
    const out = [j];
    for (let p = j.parent ? byName.get(j.parent) : undefined; p && !out.includes(p); p = p.parent ? byName.get(p.parent) : undefined) out.push(p);
    return out;
  };
  const out = new Map<string, JobConfig>();
  for (const j of y.jobs) {
    const c = chain(j);
    const first = <K extends keyof YamlJob>(k: K): YamlJob[K] | undefined => c.find((x) => x[k] !== undefined)?.[k];
    const ns = first('nodeset');
    const steps = (s: YamlJob['run']): StepConfig[] => (s ?? []).map((x) => ({
      name: 'name' in x ? x.name ?? null : null, shell: x.shell, hosts: 'hosts' in x && x.hosts ? (Array.isArray(x.hosts) ? x.hosts : [x.hosts]) : [],
    }));
    out.set(j.name, {
      name: j.name, description: j.description ?? null,
      nodeset: typeof ns === 'string' ? nodesets.get(ns) ?? DEFAULT_NODESET : ns ? { nodes: ns.nodes, groups: ns.groups } : DEFAULT_NODESET,
      run: steps(first('run')),
      // post-run steps add up from the job outwards to its ancestors, as Zuul runs them.
      postRun: c.flatMap((x) => steps(x['post-run'])),
      timeoutMs: (first('timeout') ?? y.executor['default-timeout']) * 1000,
      voting: first('voting') ?? true,
      files: (first('files') ?? []).map(compile),
      irrelevantFiles: (first('irrelevant-files') ?? []).map(compile),
      requiredProjects: [...new Set(c.flatMap((x) => x['required-projects'] ?? []))],
      vars: Object.fromEntries(c.slice().reverse().flatMap((x) => Object.entries(x.vars ?? {}).map(([k, v]) => [k, String(v)]))),
    });
  }
  return out;
}

type PipelineJobs = { jobs: (string | Record<string, { voting?: boolean } | null>)[] };

function projectJobs(entry: PipelineJobs | undefined): ProjectJob[] {
  return (entry?.jobs ?? []).map((ref) => {
    if (typeof ref === 'string') return { name: ref, voting: null };
    const [name, v] = Object.entries(ref)[0]!;
    return { name, voting: v?.voting ?? null };
  });
}

function resolveProject(y: GateYaml, p: GateYaml['projects'][number], pipelineNames: Set<string>): ProjectConfig {
  const pipelines = new Map<string, ProjectJob[]>();
  const add = (pipeline: string, jobs: ProjectJob[]) => {
    const list = pipelines.get(pipeline) ?? [];
    for (const j of jobs) {
      const i = list.findIndex((x) => x.name === j.name);
      if (i >= 0) list[i] = j;
      else list.push(j);
    }
    pipelines.set(pipeline, list);
  };
  for (const t of p.templates) {
    const tpl = y['project-templates'].find((x) => x.name === t) as Record<string, unknown> | undefined;
    for (const name of pipelineNames) if (tpl?.[name]) add(name, projectJobs(tpl[name] as PipelineJobs));
  }
  const own = p as unknown as Record<string, unknown>;
  for (const name of pipelineNames) if (own[name]) add(name, projectJobs(own[name] as PipelineJobs));
  return { name: p.name, connection: p.connection ?? y.connections[0]!.name, queue: p.queue ?? null, defaultBranch: p['default-branch'], pipelines };
}
