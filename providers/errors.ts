/**
 * Classified cloud failures (DESIGN promise 5). Drivers throw only `CloudError`; the launcher
 * decides what to do from `kind`, never from message text.
 *
 * quota       the cloud refused for lack of quota (Nova 403 "Quota exceeded", fault 413, Neutron 409 OverQuota)
 * capacity    the cloud has no room (fault "No valid host was found", 503 from a scheduler)
 * rate-limit  429, `retryAfterMs` from `Retry-After`
 * transient   5xx, timeouts, connection reset/refused: try again later
 * config      our request was wrong (unknown flavor/image/network, 400, bad credentials)
 * not-found   the resource does not exist (404, or a server in status DELETED)
 * fatal       anything else: do not retry the same thing
 */
export const CLOUD_ERROR_KINDS = ['quota', 'capacity', 'rate-limit', 'transient', 'config', 'not-found', 'fatal'] as const;
export type CloudErrorKind = (typeof CLOUD_ERROR_KINDS)[number];

export interface CloudErrorDetails {
  kind: CloudErrorKind;
  message: string;
  /** HTTP status, when there was an answer. */
  status?: number;
  /** Service that answered: keystone, nova, glance, neutron. */
  service?: string;
  method?: string;
  url?: string;
  /** `X-Openstack-Request-Id` of the answer, for the cloud operator. */
  requestId?: string;
  /** Delay asked by the cloud (`Retry-After`), in ms. */
  retryAfterMs?: number;
}

export class CloudError extends Error {
  readonly kind: CloudErrorKind;
  readonly status?: number;
  readonly service?: string;
  readonly method?: string;
  readonly url?: string;
  readonly requestId?: string;
  readonly retryAfterMs?: number;

  constructor(d: CloudErrorDetails) {
    super(d.message);
    this.name = 'CloudError';
    this.kind = d.kind;
    this.status = d.status;
    this.service = d.service;
    this.method = d.method;
    this.url = d.url;
    this.requestId = d.requestId;
    this.retryAfterMs = d.retryAfterMs;
  }

  /** Structured fields for the log. */
  toLog(): Record<string, unknown> {
    return {
      kind: this.kind, status: this.status, service: this.service, method: this.method,
      url: this.url, requestId: this.requestId, retryAfterMs: this.retryAfterMs, message: this.message,
    };
  }
}

export function isCloudError(e: unknown, kind?: CloudErrorKind): e is CloudError {
  return e instanceof CloudError && (kind === undefined || e.kind === kind);
}
