/**
 * Reading nodepool.yaml: YAML syntax, then the schema, then the cross-checks, every problem placed
 * at its line. Nothing else in the system reads the YAML.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { crossCheck } from './cross-checks.ts';
import type { Finding } from './cross-checks.ts';
import { ConfigError } from './errors.ts';
import type { ConfigIssue } from './errors.ts';
import { resolveConfig } from './resolve.ts';
import { diskimagePathsAt } from './resolve-diskimages.ts';
import { unsealTree } from './sealed-values.ts';
import { nodepoolSchema } from './schema.ts';
import type { Config } from './types.ts';
import { formatPath, locate, parseYaml } from './yaml-source.ts';
import type { YamlSource } from './yaml-source.ts';
import { zodIssuesToConfigIssues } from './zod-issues.ts';

export interface ConfigValidation {
  /** The configuration when there are no errors; warnings do not prevent it. */
  config: Config | null;
  errors: ConfigIssue[];
  warnings: ConfigIssue[];
}

/** Validate nodepool.yaml's text. `filename` is only used in messages; `config.path` stays null. */
export function validateConfigText(text: string, filename: string): ConfigValidation {
  const parsed = parseYaml(text, filename);
  if (parsed.errors.length > 0) {
    // The tree after a syntax error is a guess: checking it would report problems that are not there.
    return { config: null, errors: parsed.errors, warnings: parsed.warnings };
  }
  // An empty file is an empty configuration (every section has a default).
  const data = parsed.data ?? {};
  // Sealed values are opened first: the schema and the cross-checks see clear values only.
  const sealedErrors = unsealTree(data, parsed.source, filename);
  const result = nodepoolSchema.safeParse(data);
  const schemaErrors = result.success ? [] : zodIssuesToConfigIssues(result.error.issues, parsed.source, data, nodepoolSchema);
  const checks = crossCheck(data);
  const errors = sortByPosition([...sealedErrors, ...schemaErrors, ...place(checks.errors, parsed.source)]);
  const warnings = sortByPosition([...parsed.warnings, ...place(checks.warnings, parsed.source)]);
  const config = errors.length === 0 && result.success ? resolveConfig(result.data, null) : null;
  return { config, errors, warnings };
}

/** Parse nodepool.yaml's text; throws ConfigError listing every problem. */
export function parseConfig(text: string, filename: string): Config {
  const { config, errors } = validateConfigText(text, filename);
  if (!config) throw new ConfigError(filename, errors);
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

export function readConfigFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message;
    throw new ConfigError(path, [{ path: '', line: 0, column: 0, message: `cannot read: ${reason}` }]);
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

function place(findings: Finding[], source: YamlSource): ConfigIssue[] {
  return findings.map((f) => {
    const first = f.firstAt ? ` (first at line ${locate(source, f.firstAt).line})` : '';
    return { path: formatPath(f.path), ...locate(source, f.path, f.at), message: f.message + first };
  });
}

function sortByPosition(issues: ConfigIssue[]): ConfigIssue[] {
  return [...issues].sort((a, b) => a.line - b.line || a.column - b.column);
}
