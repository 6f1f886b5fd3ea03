import type { GateConfig, JobConfig, PipelineConfig } from './config/types.ts';
import { changeKey, type Build, type Buildset, type ChangeRef, type Item } from './model.ts';
import type { ProjectPlan } from './workspace.ts';

/**
 * The speculative state of an item, as a plan for the workspace and as what its jobs are told:
 * for each project involved (the item's, those of the items ahead and of the changes it depends
 * on, and the jobs' required projects), the changes merged onto the branch in queue order, the
 * item's own change last.
 */

/** The nearest item ahead's prepared state, to build on: its commits and the changes merged there. */
export interface AheadState {
  commits: Record<string, string>;
  merged: number[];
}

export function workspacePlan(config: GateConfig, p: PipelineConfig, item: Item, ahead: Item[], from?: AheadState): ProjectPlan[] {
  const jobs = (config.projects.get(item.change.project)?.pipelines.get(p.name) ?? []).map((j) => config.jobs.get(j.name)).filter((j): j is JobConfig => !!j);
  // Changes ahead in the queue first, then the changes it depends on that are not among them.
  const merged: { change: ChangeRef; own: boolean }[] = ahead.map((i) => ({ change: i.change, own: false }));
  for (const n of item.needs) if (!merged.some((m) => m.change.number === n.number)) merged.push({ change: n, own: false });
  merged.push({ change: item.change, own: true });
  const projects = new Map<string, ProjectPlan>();
  const plan = (project: string, connection: string, branch: string) => {
    let pl = projects.get(project);
    if (!pl) { pl = { project, connection, branch, steps: [] }; projects.set(project, pl); }
    return pl;
  };
  plan(item.change.project, item.change.connection, item.change.branch);
  for (const m of merged) {
    const pl = plan(m.change.project, m.change.connection, m.change.branch);
    if (from?.merged.includes(m.change.number)) continue;
    pl.steps.push({
      label: `change ${changeKey(m.change)}`, change: m.change.number, ref: m.change.ref, revision: m.change.revision, own: m.own,
    });
  }
  for (const name of new Set(jobs.flatMap((j) => j.requiredProjects))) {
    if (projects.has(name)) continue;
    const proj = config.projects.get(name);
    plan(name, proj?.connection ?? item.change.connection, proj?.defaultBranch ?? item.change.branch);
  }
  if (from) {
    for (const pl of projects.values()) {
      const commit = from.commits[pl.project];
      if (commit) pl.from = commit;
    }
  }
  return [...projects.values()];
}

/** Zuul's variables of a build (ZUUL_*), and the job's own vars. */
export function buildEnv(item: Item, build: Build, job: JobConfig, bs: Buildset): Record<string, string> {
  return {
    ZUUL_PIPELINE: item.pipeline, ZUUL_PROJECT: item.change.project, ZUUL_BRANCH: item.change.branch,
    ZUUL_CHANGE: String(item.change.number), ZUUL_PATCHSET: String(item.change.patchset), ZUUL_REF: item.change.ref,
    ZUUL_CHANGE_REVISION: item.change.revision, ZUUL_COMMIT: bs.commits[item.change.project] ?? '', ZUUL_JOB: job.name,
    ZUUL_BUILD: build.id, ZUUL_BUILDSET: bs.id, ZUUL_VOTING: String(build.voting),
    ...job.vars,
  };
}

/**
 * `~/nodepool/commits` (project and the commit prepared for it) and `~/nodepool/changes` (each
 * change merged into the workspace: project, number,patchset, revision, in merge order), so a
 * job can check it got exactly the speculative state.
 */
export function buildFiles(item: Item, bs: Buildset, ahead: Item[]): Record<string, string> {
  const changes = [...ahead.map((i) => i.change), ...item.needs.filter((n) => !ahead.some((i) => i.change.number === n.number)), item.change];
  return {
    'nodepool/commits': Object.entries(bs.commits).map(([p, c]) => `${p} ${c}\n`).join(''),
    'nodepool/changes': changes.map((c) => `${c.project} ${changeKey(c)} ${c.revision}\n`).join(''),
  };
}

/** Numbers of the changes a plan merges, and those of the state it starts from. */
export function mergedBy(plan: ProjectPlan[], from?: AheadState): number[] {
  const own = plan.flatMap((p) => p.steps.map((s) => s.change));
  return [...new Set([...(from?.merged ?? []), ...own])];
}
