/**
 * The one place where OpenStack failures become `CloudError` kinds (DESIGN promise 5).
 *
 * The decision is made from the status code and the structured parts of the error body (Nova's
 * fault key, Neutron's exception `type`, a `Retry-After` header). Message text is read in two
 * places only, each because the API gives no other signal; both are marked below.
 */
import { CloudError, type CloudErrorKind } from '../errors.ts';
import {
  GlanceErrorSchema, KeystoneErrorSchema, NeutronErrorSchema, NovaFaultSchema,
} from './schemas.ts';

export interface CallContext {
  service: string;
  method: string;
  url: string;
}

export interface AnswerContext extends CallContext {
  status: number;
  /** Header names in lower case. */
  headers: Record<string, string>;
  body: unknown;
  /** Clock for an HTTP-date `Retry-After`, in ms since the epoch. */
  now: number;
}

/** What an error body says, whichever service wrote it. */
export interface ErrorBody {
  shape: 'nova' | 'keystone' | 'neutron' | 'glance' | 'text' | 'none';
  /** Nova's top-level key (`badRequest`, `forbidden`, `itemNotFound`, `overLimit`, ...). */
  novaKey?: string;
  /** Neutron's exception class (`OverQuota`, `FloatingIPNotFound`, ...). */
  neutronType?: string;
  message: string;
}

export function readErrorBody(body: unknown): ErrorBody {
  if (body === null || body === undefined || body === '') return { shape: 'none', message: '' };
  if (typeof body === 'string') return { shape: 'text', message: tidy(body) };
  const neutron = NeutronErrorSchema.safeParse(body);
  if (neutron.success) {
    const e = neutron.data.NeutronError;
    return { shape: 'neutron', neutronType: e.type, message: tidy(e.message) };
  }
  const keystone = KeystoneErrorSchema.safeParse(body);
  if (keystone.success) return { shape: 'keystone', message: tidy(keystone.data.error.message) };
  const glance = GlanceErrorSchema.safeParse(body);
  if (glance.success) return { shape: 'glance', message: tidy(glance.data.message) };
  if (typeof body === 'object' && !Array.isArray(body)) {
    const keys = Object.keys(body);
    if (keys.length === 1) {
      const fault = NovaFaultSchema.safeParse((body as Record<string, unknown>)[keys[0]]);
      if (fault.success) return { shape: 'nova', novaKey: keys[0], message: tidy(fault.data.message) };
    }
  }
  return { shape: 'text', message: tidy(JSON.stringify(body)) };
}

/** Glance's JSON messages still carry `<br />` and blank lines; HTML pages can be long. */
function tidy(text: string): string {
  return text.replace(/<br\s*\/?>/gi, ' ').replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 500);
}

/**
 * Nova answers an over-quota `POST /servers` with 403 `forbidden` (TooManyInstances,
 * "Quota exceeded for cores: Requested 2, but already used 2 of 3 cores"; PortLimitExceeded,
 * "The number of defined ports: 1 is over the limit: 0") and a policy refusal with the same
 * 403 `forbidden` ("Policy doesn't allow ... to be performed."). The body carries nothing else,
 * so within a 403 `forbidden` the message text decides: this is the documented exception to
 * "never by message text" (the recorded samples hold both quota messages).
 */
const NOVA_QUOTA_MESSAGE = /quota exceeded|is over the limit|maximum number of (ports|floating ips|security groups)/i;

/** Neutron exception classes that mean "out of quota" and "out of room" (409 Conflict). */
const NEUTRON_QUOTA_TYPES = new Set(['OverQuota']);
const NEUTRON_CAPACITY_TYPES = new Set(['IpAddressGenerationFailure']);
/**
 * A 404 that says the network setup is wrong, not that the thing is gone: the port's subnet has no
 * router to the floating IP's external network, so no retry will associate them.
 */
const NEUTRON_CONFIG_TYPES = new Set(['ExternalGatewayForFloatingIPNotFound']);

/** Maps a non-2xx answer to a classified error. Call it once the one token renewal is spent. */
export function classifyAnswer(ctx: AnswerContext): CloudError {
  const err = readErrorBody(ctx.body);
  const retryAfterMs = parseRetryAfter(ctx.headers['retry-after'], ctx.now);
  const { kind, why } = decide(ctx.status, err, retryAfterMs);
  const said = err.message ? `: ${err.message}` : '';
  return new CloudError({
    kind,
    message: `${ctx.service} ${ctx.method} ${ctx.url} answered ${ctx.status} (${why})${said}`,
    status: ctx.status,
    service: ctx.service,
    method: ctx.method,
    url: ctx.url,
    requestId: requestIdOf(ctx.headers),
    retryAfterMs,
  });
}

function decide(status: number, err: ErrorBody, retryAfterMs: number | undefined): { kind: CloudErrorKind; why: string } {
  switch (status) {
    case 400:
      return { kind: 'config', why: 'bad request' };
    case 401:
      return { kind: 'config', why: 'not authenticated even with a fresh token' };
    case 403:
      if (err.shape === 'nova' && err.novaKey === 'forbidden' && NOVA_QUOTA_MESSAGE.test(err.message)) {
        return { kind: 'quota', why: 'quota exceeded' };
      }
      return { kind: 'config', why: 'forbidden' };
    case 404:
      // Neutron's NotFound subclasses include one that is not about the resource asked for.
      if (err.neutronType && NEUTRON_CONFIG_TYPES.has(err.neutronType)) return { kind: 'config', why: err.neutronType };
      return { kind: 'not-found', why: 'not found' };
    case 406:
      // Nova's answer to a microversion it does not support.
      return { kind: 'config', why: 'not acceptable (unsupported microversion?)' };
    case 409:
      if (err.neutronType && NEUTRON_QUOTA_TYPES.has(err.neutronType)) return { kind: 'quota', why: err.neutronType };
      if (err.neutronType && NEUTRON_CAPACITY_TYPES.has(err.neutronType)) return { kind: 'capacity', why: err.neutronType };
      return { kind: 'transient', why: 'conflict' };
    case 413:
      // `{"overLimit": {...}}`, the 413 the compute API reference lists for an exceeded quota
      // (also Cinder's and Glance's storage quota); with a Retry-After of some seconds it was
      // Nova's legacy rate limiting, so a wait, not a missing quota. Cinder's QuotaError always
      // sends `Retry-After: 0` (the exception class sets that header): that is still quota.
      return retryAfterMs !== undefined && retryAfterMs > 0
        ? { kind: 'rate-limit', why: 'over limit, retry later' }
        : { kind: 'quota', why: 'over limit' };
    case 429:
      return { kind: 'rate-limit', why: 'too many requests' };
    case 500: case 502: case 503: case 504:
      return { kind: 'transient', why: 'server error' };
    default:
      return { kind: 'fatal', why: 'unexpected status' };
  }
}

/** `Retry-After` is delay-seconds or an HTTP date (RFC 9110 10.2.3). */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/** Nova, Glance and Neutron send `X-Openstack-Request-Id`, Keystone lower case; header names arrive lower-cased. */
export function requestIdOf(headers: Record<string, string>): string | undefined {
  return headers['x-openstack-request-id'] ?? headers['x-compute-request-id'];
}

/** TLS failures: retrying will not make a certificate valid; the clouds.yaml `verify`/`cacert` must change. */
const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/;

/**
 * Maps a failure without an HTTP answer to a classified error. Connection refused or reset,
 * "socket hang up" (ECONNRESET), DNS hiccups and timeouts (ECONNABORTED/ETIMEDOUT) all mean
 * "the cloud is not answering right now": transient. Only a bad certificate or a malformed
 * URL is ours to fix.
 */
export function classifyNetworkError(error: unknown, ctx: CallContext): CloudError {
  const e = error as { code?: string; message?: string } | undefined;
  const code = e?.code ?? '';
  const message = e?.message ?? String(error);
  const kind: CloudErrorKind = TLS_CODES.test(code) || code === 'ERR_INVALID_URL' ? 'config' : 'transient';
  return new CloudError({
    kind,
    message: `${ctx.service} ${ctx.method} ${ctx.url} failed without an answer (${code || 'error'}): ${message}`,
    service: ctx.service,
    method: ctx.method,
    url: ctx.url,
  });
}

/**
 * Classifies the `fault` of a server in ERROR. Nova's fault has a code and a message only:
 * 413 is the conductor's quota recheck (a lost race, recorded in the samples) and 403 the
 * API's quota refusal; "No valid host was found" is the scheduler's NoValidHost, which Nova
 * reports as code 500 like any other failure, so the message is the only signal there is
 * (documented exception to "never by message text"). Anything else may work on a retry.
 */
export function classifyServerFault(fault: { code: number; message: string }): CloudError {
  let kind: CloudErrorKind;
  if (fault.code === 413 || fault.code === 403) kind = 'quota';
  else if (/no valid host/i.test(fault.message)) kind = 'capacity';
  else kind = 'transient';
  return new CloudError({ kind, message: `server fault ${fault.code}: ${fault.message.trim()}`, service: 'nova' });
}
