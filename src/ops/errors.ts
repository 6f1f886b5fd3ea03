import type { z } from 'zod';

/**
 * The errors every interface shares. Operations throw them; the HTTP API maps `httpStatus` to its
 * answer in one error handler, and the CLI maps `exitCode` to its exit status (0 ok, 1 failed,
 * 2 usage), so a refusal reads the same whichever way an operator or a scheduler asked.
 */
export abstract class NodepoolError extends Error {
  abstract readonly httpStatus: number;
  abstract readonly exitCode: 1 | 2;
}

/** The node or request named does not exist (any more). */
export class NotFoundError extends NodepoolError {
  readonly httpStatus = 404;
  readonly exitCode = 1;
  constructor(readonly kind: 'node' | 'request' | 'provider' | 'image' | 'build' | 'upload' | 'autohold' | 'log', readonly id: string) {
    super(`${kind} ${id} not found`);
    this.name = 'NotFoundError';
  }
}

/** The record is in a state that does not allow the operation (or another writer got there first). */
export class ConflictError extends NodepoolError {
  readonly httpStatus = 409;
  readonly exitCode = 1;
  constructor(message: string, readonly state?: string) {
    super(message);
    this.name = 'ConflictError';
  }
}

/** An argument is malformed; `field` names it exactly (`labels[1]`, `priority`, `label`). */
export class ValidationError extends NodepoolError {
  readonly httpStatus = 400;
  readonly exitCode = 2;
  constructor(readonly field: string, message: string) {
    super(message);
    this.name = 'ValidationError';
  }
}

/** The command line itself is wrong (unknown command, bad option value). */
export class UsageError extends NodepoolError {
  readonly httpStatus = 400;
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The call needs a token and none (or an unknown one) was given. */
export class UnauthorizedError extends NodepoolError {
  readonly httpStatus = 401;
  readonly exitCode = 1;
  constructor(message: string) {
    super(message);
    this.name = 'UnauthorizedError';
  }
}

/** The token given does not allow the call (its role, or a request that is not its holder's). */
export class ForbiddenError extends NodepoolError {
  readonly httpStatus = 403;
  readonly exitCode = 1;
  constructor(message: string) {
    super(message);
    this.name = 'ForbiddenError';
  }
}

/** The running system could not be reached or failed to answer. */
export class UnavailableError extends NodepoolError {
  readonly httpStatus = 503;
  readonly exitCode = 1;
  constructor(message: string) {
    super(message);
    this.name = 'UnavailableError';
  }
}

/** The running system refused a call: its HTTP status and message, as the CLI received them. */
export class RemoteError extends NodepoolError {
  readonly exitCode: 1 | 2;
  constructor(readonly httpStatus: number, message: string, readonly field?: string) {
    super(message);
    this.name = 'RemoteError';
    // A 400 means the arguments given were wrong, which is a usage error on the command line.
    this.exitCode = httpStatus === 400 ? 2 : 1;
  }
}

/** Exit status for any error: ours carry one; anything else is a failure. */
export function exitCodeFor(err: unknown): 1 | 2 {
  return err instanceof NodepoolError ? err.exitCode : 1;
}

/** `['labels', 1, 'name']` → `labels[1].name`; the root is called `root` (the whole body). */
export function fieldName(path: readonly PropertyKey[], root = 'body'): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out ? `.${String(seg)}` : String(seg);
  }
  return out || root;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = input;
  for (const seg of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[seg];
  }
  return v;
}

/**
 * Turns the first zod issue into a ValidationError naming the exact field. An unknown key is
 * named itself (`label`), and a missing value says "is required" rather than zod's
 * "expected array, received undefined", which reads oddly to someone who forgot a field.
 */
export function validationErrorFromZod(err: z.core.$ZodError, input: unknown, root = 'body'): ValidationError {
  const issue = err.issues[0];
  if (!issue) return new ValidationError(root, 'invalid input');
  if (issue.code === 'unrecognized_keys') {
    const field = fieldName([...issue.path, issue.keys[0]!], root);
    return new ValidationError(field, `${field}: unknown field`);
  }
  const field = fieldName(issue.path, root);
  if (issue.code === 'invalid_type' && valueAt(input, issue.path) === undefined) {
    return new ValidationError(field, `${field} is required`);
  }
  return new ValidationError(field, `${field}: ${issue.message.replace(/^Invalid input: /, '')}`);
}

/** Parses `input` with `schema`, throwing a ValidationError that names the field. */
export function parseArgs<S extends z.ZodType>(schema: S, input: unknown, root = 'body'): z.output<S> {
  const r = schema.safeParse(input);
  if (!r.success) throw validationErrorFromZod(r.error, input, root);
  return r.data;
}
