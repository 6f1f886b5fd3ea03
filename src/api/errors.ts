import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { NodepoolError, ValidationError, validationErrorFromZod } from '../ops/errors.ts';
import type { ErrorBody } from './contract.ts';
import { sizeText } from './limits.ts';

/**
 * Errors are answered in one place, all in one shape (`ErrorBody` in ./contract.ts):
 *   {"error": {"code": 400, "field": "labels[1]", "message": "labels[1]: expected string, received number"}}
 * `field` is present for validation errors only.
 */

export type { ErrorBody };

export function errorBody(code: number, message: string, field?: string): ErrorBody {
  return { error: field === undefined ? { code, message } : { code, field, message } };
}

function isZodSchema(s: unknown): s is z.ZodType {
  return typeof s === 'object' && s !== null && typeof (s as { safeParse?: unknown }).safeParse === 'function';
}

/**
 * Route schemas are zod schemas (the single source of each body's shape, shared with the
 * operations); this compiler validates with them and fails with a ValidationError naming the
 * field, which fastify hands to the error handler below.
 */
export function installZodValidation(app: FastifyInstance): void {
  app.setValidatorCompiler(({ schema, httpPart }) => {
    if (!isZodSchema(schema)) throw new Error(`route schema for ${httpPart ?? 'input'} must be a zod schema`);
    const root = httpPart === 'querystring' ? 'query' : (httpPart ?? 'body');
    return (data: unknown) => {
      // fastify passes null for a missing body; treat it like an empty one so that a body of
      // optional fields may be left out entirely, and a required field is reported by name.
      const input = httpPart === 'body' && data === null ? {} : data;
      const r = schema.safeParse(input);
      return r.success ? { value: r.data } : { error: validationErrorFromZod(r.error, input, root) };
    };
  });
}

export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | NodepoolError | Error, request: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof NodepoolError) {
      request.log.info({ err: err.message }, 'request refused');
      const field = err instanceof ValidationError ? err.field : undefined;
      return reply.code(err.httpStatus).send(errorBody(err.httpStatus, err.message, field));
    }
    const status = (err as FastifyError).statusCode;
    if ((err as FastifyError).code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      const limit = request.routeOptions.bodyLimit ?? 0;
      const message = `body: larger than the limit of ${sizeText(limit)} for ${request.method} ${request.routeOptions.url ?? request.url}`;
      request.log.info({ err: message }, 'request refused');
      return reply.code(413).send(errorBody(413, message, 'body'));
    }
    if (status && status >= 400 && status < 500) {
      // fastify's own refusals: malformed JSON, unsupported content type, body too large.
      request.log.info({ err: err.message }, 'request refused');
      return reply.code(status).send(errorBody(status, err.message));
    }
    request.log.error({ err }, 'request failed');
    return reply.code(500).send(errorBody(500, 'internal error; see the API log'));
  });
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send(errorBody(404, `no such path: ${request.method} ${request.url.split('?')[0]}`));
  });
}
