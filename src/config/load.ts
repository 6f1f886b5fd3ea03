/**
 * Reading nodepool.yaml: YAML syntax, then the schema, then the cross-checks, every problem placed
 * at its line. Nothing else in the system reads the YAML.
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import { crossCheck } from './cross-checks.ts';
import type { Finding, Findings } from './cross-checks.ts';
import { echoFor } from './echo.ts';
import { ConfigError, MAX_ISSUES } from './errors.ts';
import type { ConfigIssue } from './errors.ts';
import { readConfigText, UnreadableFileError } from './read-file.ts';
import { resolveConfig } from './resolve.ts';
import { diskimagePathsAt } from './resolve-diskimages.ts';
import { keyFileOf, unsealTree } from './sealed-values.ts';
import { validateGateSection } from '../gate/config/load.ts';
import { nodepoolSchema } from './schema.ts';
import type { Config } from './types.ts';
import { formatPath, locate, parseYaml } from './yaml-source.ts';
import type { YamlSource } from './yaml-source.ts';
import { zodIssuesToConfigIssues } from './zod-issues.ts';

export interface ConfigValidation {
  /** The configuration when there are no errors; warnings do not prevent it. */
  config: Config | null;
  /** The first MAX_ISSUES errors, in the order of the file. */
  errors: ConfigIssue[];
  warnings: ConfigIssue[];
  /** Every error and warning found, listed or not. */
  errorCount: number;
  warningCount: number;
}

/** Validate nodepool.yaml's text. `filename` is only used in messages; `config.path` stays null. */
export function validateConfigText(text: string, filename: string): ConfigValidation {
  const parsed = parseYaml(text, filename);
  if (parsed.errors.length > 0) {
    // The tree after a syntax error is a guess: checking it would report problems that are not there.
    return capped(parsed.errors, parsed.errors.length, parsed.warnings, parsed.warnings.length, null);
  }
  // An empty file is an empty configuration (every section has a default).
  const data = parsed.data ?? {};
  // Sealed values are opened first: the schema and the cross-checks see clear values only, and
  // every message shows values through one echo that knows which were sealed.
  const sealed = unsealTree(data, parsed.source, filename, text);
  const echo = echoFor(sealed.sealedPaths);
  const result = nodepoolSchema.safeParse(data);
  const schema = result.success ? { issues: [], total: 0 } : zodIssuesToConfigIssues(result.error.issues, parsed.source, data, nodepoolSchema, echo);
  const checks = crossCheck(data, echo);
  const gate = isRecord(data) ? validateGateSection(data, parsed.source, filename, keyFileOf(data, filename), echo) : { config: null, errors: [] };
  const errors = [...sealed.issues, ...schema.issues, ...place(checks.errors, parsed.source), ...gate.errors];
  const errorCount = sealed.issues.length + schema.total + checks.errors.total + gate.errors.length;
  const warnings = [...parsed.warnings, ...place(checks.warnings, parsed.source)];
  const warningCount = parsed.warnings.length + checks.warnings.total;
  const config = errorCount === 0 && result.success ? { ...resolveConfig(result.data, null), gate: gate.config } : null;
  return capped(errors, errorCount, warnings, warningCount, config);
}

/** Parse nodepool.yaml's text; throws ConfigError listing its problems. */
export function parseConfig(text: string, filename: string): Config {
  const { config, errors, errorCount } = validateConfigText(text, filename);
  if (!config) throw new ConfigError(filename, errors, undefined, errorCount);
  return config;
}

/**
 * Read nodepool.yaml from `path`. `config.path` is its absolute path and `store.path` is resolved
 * against its folder, so the daemon finds the same database whatever its working directory.
 */
export function loadConfig(path: string): Config {
  const config = parseConfig(readConfigFile(path), path);
  return withFileLocation(config, path);
}

/** The file's text; a ConfigError when it cannot be read, is not a regular file or is too large. */
export function readConfigFile(path: string): string {
  try {
    return readConfigText(path);
  } catch (e) {
    if (!(e instanceof UnreadableFileError)) throw e;
    throw new ConfigError(path, [{ path: '', line: 0, column: 0, message: e.message }]);
  }
}

export function withFileLocation(config: Config, path: string): Config {
  const file = resolve(path);
  const storePath = config.store.path;
  // `:memory:` is SQLite's name for a database without a file.
  const resolved = storePath === ':memory:' || isAbsolute(storePath) ? storePath : resolve(dirname(file), storePath);
  const keyFile = config.secrets?.keyFile ?? null;
  const secrets = { keyFile: keyFile === null || isAbsolute(keyFile) ? keyFile : resolve(dirname(file), keyFile) };
  return { ...config, path: file, store: { ...config.store, path: resolved }, secrets, ...diskimagePathsAt(config, dirname(file)) };
}

function place(findings: Findings, source: YamlSource): ConfigIssue[] {
  return findings.list.map((f: Finding) => {
    const first = f.firstAt ? ` (first at line ${locate(source, f.firstAt).line})` : '';
    return { path: formatPath(f.path), ...locate(source, f.path, f.at), message: f.message + first };
  });
}

/** The first MAX_ISSUES of each kind in the order of the file, with the counts of all. */
function capped(errors: ConfigIssue[], errorCount: number, warnings: ConfigIssue[], warningCount: number, config: Config | null): ConfigValidation {
  return { config, errors: sortByPosition(errors), warnings: sortByPosition(warnings), errorCount, warningCount };
}

/** By position; issues of another file (a gate.yaml) after those of this one. */
function sortByPosition(issues: ConfigIssue[]): ConfigIssue[] {
  return [...issues]
    .sort((a, b) => Number(a.file !== undefined) - Number(b.file !== undefined) || a.line - b.line || a.column - b.column)
    .slice(0, MAX_ISSUES);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
