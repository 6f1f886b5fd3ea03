/**
 * `nodepool config check FILE`: validate a configuration without starting anything, and say what
 * it contains or everything that is wrong with it: nodepool.yaml, then the cloud of every provider
 * not simulated (`cloud-sim.clouds`), looked for in clouds.yaml and secure.yaml as `nodepool run`
 * looks (a cloud no file defines is an error at the provider's `cloud`), their sealed values
 * opened with the configuration's key.
 */
import { ConfigError, formatIssue, moreLine, plural } from './errors.ts';
import type { ConfigIssue } from './errors.ts';
import { loadClouds, type LoadCloudsOptions } from '../../providers/openstack/clouds-yaml/index.ts';
import { readConfigFile, validateConfigText, withFileLocation, type ConfigValidation } from './load.ts';
import { problemIssues, providerClouds } from './provider-clouds.ts';
import { cloudsUnseal } from './sealed-values.ts';
import type { Config } from './types.ts';
import { locate, parseYaml } from './yaml-source.ts';
import { validateGateText } from '../gate/config/load.ts';
import type { GateConfig } from '../gate/config/types.ts';

export interface ConfigCheckResult {
  ok: boolean;
  errors: ConfigIssue[];
  warnings: ConfigIssue[];
  /** The report to print, one issue per line: `file:line:col: path: message`. */
  text: string;
}

export interface CheckOptions {
  /** Where clouds.yaml and secure.yaml are looked for; default the process's environment and folders. */
  clouds?: Omit<LoadCloudsOptions, 'unseal'>;
}

export function checkConfigFile(path: string, opts: CheckOptions = {}): ConfigCheckResult {
  let text: string;
  try {
    text = readConfigFile(path);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return report(path, { config: null, errors: e.issues, warnings: [], errorCount: e.total, warningCount: 0 });
  }
  if (isGateFile(text)) {
    const gate = validateGateText(text, path);
    return report(path, { config: null, errors: gate.errors, warnings: [], errorCount: gate.errors.length, warningCount: 0 }, gate.config ? gateSummary(gate.config) : null);
  }
  const v = validateConfigText(text, path);
  if (!v.config) return report(path, v);
  const clouds = cloudProblems(text, path, withFileLocation(v.config, path), opts);
  return report(path, clouds.length ? { ...v, config: null, errors: clouds, errorCount: clouds.length } : v);
}

/** A gate.yaml has the gate's sections at its top and none of nodepool.yaml's. */
function isGateFile(text: string): boolean {
  const top = new Set([...text.matchAll(/^([A-Za-z-]+):/gm)].map((m) => m[1]!));
  return ['pipelines', 'connections', 'jobs', 'projects'].some((k) => top.has(k)) && !['providers', 'labels', 'gate'].some((k) => top.has(k));
}

function gateSummary(g: GateConfig): string {
  return [plural(g.pipelines.length, 'pipeline'), plural(g.jobs.size, 'job'), plural(g.projects.size, 'project')].join(', ');
}

/** Every provider's cloud, found as `nodepool run` finds it: what is wrong with each, placed at its line. */
function cloudProblems(text: string, path: string, config: Config, opts: CheckOptions): ConfigIssue[] {
  const loaded = loadClouds({ ...opts.clouds, unseal: cloudsUnseal(config.secrets?.keyFile ?? null) });
  const { problems } = providerClouds(config, loaded, { simulator: true });
  if (!problems.length) return [];
  const { source } = parseYaml(text, path);
  return problemIssues(problems, (p) => locate(source, p, 'value'));
}

/** `what` says what a valid file holds (default: nodepool.yaml's summary of `v.config`). */
function report(path: string, v: ConfigValidation, what: string | null = v.config ? summary(v.config) : null): ConfigCheckResult {
  const { errors, warnings } = v;
  const ok = v.errorCount === 0 && what !== null;
  const headline = ok
    ? `${path}: OK (${what})`
    : `${path}: ${plural(v.errorCount, 'error')}${v.warningCount ? `, ${plural(v.warningCount, 'warning')}` : ''}`;
  const lines = [
    headline,
    ...errors.map((i) => formatIssue(i, path)),
    moreLine(errors.length, v.errorCount, 'error'),
    ...warnings.map((i) => formatIssue(i, path, 'warning')),
    moreLine(warnings.length, v.warningCount, 'warning'),
  ].filter((l): l is string => l !== null);
  return { ok, errors, warnings, text: lines.join('\n') };
}

function summary(config: Config): string {
  const pools = config.providers.reduce((n, p) => n + p.pools.length, 0);
  return [
    plural(config.labels.length, 'label'),
    plural(config.providers.length, 'provider'),
    plural(pools, 'pool'),
    ...(config.gate ? [`gate: ${gateSummary(config.gate)}`] : []),
  ].join(', ');
}
