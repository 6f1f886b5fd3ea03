/**
 * Reading the gate's configuration, inline in nodepool.yaml (`gate:` followed by the section) or
 * in a file of its own (`gate: gate.yaml`, relative to nodepool.yaml). Problems are placed at
 * their line like every other configuration problem; those of a gate.yaml name that file.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError, type ConfigIssue } from '../../config/errors.ts';
import { unsealTree } from '../../config/sealed-values.ts';
import { formatPath, locate, parseYaml, type PathSegment, type YamlSource } from '../../config/yaml-source.ts';
import { zodIssuesToConfigIssues } from '../../config/zod-issues.ts';
import { echoFor, type Echo } from '../../config/echo.ts';
import { checkGate } from './checks.ts';
import { resolveGate } from './resolve.ts';
import { gateSchema } from './schema.ts';
import type { GateConfig } from './types.ts';

export interface GateValidation {
  config: GateConfig | null;
  errors: ConfigIssue[];
}

/** The `gate:` section of nodepool.yaml's data (already unsealed), as a config or its problems. */
export function validateGateSection(root: Record<string, unknown>, source: YamlSource, filename: string, keyFile: string | null, echo: Echo = echoFor()): GateValidation {
  const value = root.gate;
  if (value === undefined || value === null) return { config: null, errors: [] };
  if (typeof value === 'string') {
    const path = isAbsolute(value) ? value : resolve(dirname(filename), value);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message;
      return { config: null, errors: [{ path: 'gate', ...locate(source, ['gate']), message: `cannot read ${value}: ${why}` }] };
    }
    return validateGateText(text, path, keyFile);
  }
  // Checked inside nodepool.yaml's tree, so zod's paths and the lines are those of the section.
  const wrapper = z.object({ gate: gateSchema }).loose();
  return check(wrapper, root, source, ['gate'], filename, (data) => (data as { gate: z.output<typeof gateSchema> }).gate, echo);
}

/** A gate.yaml of its own; `keyFile` opens its sealed values (nodepool.yaml's secrets.key-file). */
export function validateGateText(text: string, filename: string, keyFile: string | null = null): GateValidation {
  const parsed = parseYaml(text, filename);
  const inFile = (issues: ConfigIssue[]) => issues.map((i) => ({ ...i, file: filename }));
  if (parsed.errors.length) return { config: null, errors: inFile(parsed.errors) };
  const data = parsed.data ?? {};
  const sealed = unsealTree(data, parsed.source, filename, text, keyFile);
  const r = check(gateSchema, data, parsed.source, [], filename, (d) => d as z.output<typeof gateSchema>, echoFor(sealed.sealedPaths));
  return { config: r.config, errors: inFile([...sealed.issues, ...r.errors]).sort((a, b) => a.line - b.line || a.column - b.column) };
}

/** Reads a gate.yaml; throws a ConfigError listing every problem. */
export function loadGateFile(path: string, keyFile: string | null = null): GateConfig {
  const r = validateGateText(readFileSync(path, 'utf8'), path, keyFile);
  if (!r.config) throw new ConfigError(path, r.errors);
  return r.config;
}

function check(
  schema: z.ZodType, data: unknown, source: YamlSource, at: PathSegment[], filename: string, pick: (parsed: unknown) => z.output<typeof gateSchema>, echo: Echo,
): GateValidation {
  const result = schema.safeParse(data);
  const errors = result.success ? [] : zodIssuesToConfigIssues(result.error.issues, source, data, schema, echo).issues;
  const sub = at.reduce<unknown>((v, k) => (v as Record<string | number, unknown> | undefined)?.[k], data);
  const cross = checkGate(sub, at).map((f) => {
    const first = f.firstAt ? ` (first at line ${locate(source, f.firstAt).line})` : '';
    return { path: formatPath(f.path), ...locate(source, f.path, f.at), message: f.message + first };
  });
  const all = [...errors, ...cross].sort((a, b) => a.line - b.line || a.column - b.column);
  if (all.length || !result.success) return { config: null, errors: all };
  return { config: resolveGate(pick(result.data), filename, dirname(resolve(filename))), errors: [] };
}
