/**
 * Keystone v3: turns clouds.yaml credentials into a token and its service catalog, reuses the
 * token until it is near its end, and makes concurrent callers share one authentication.
 */
import type { CloudCredentials } from './clouds-yaml/credentials.ts';
import type { Logger } from '../../src/log.ts';
import { CloudError } from '../errors.ts';
import { classifyAnswer } from './classify.ts';
import type { HttpClient } from './http.ts';
import { type CatalogService, TokenBodySchema, parseBody } from './schemas.ts';

export interface Token {
  /** The X-Subject-Token value. Never logged. */
  value: string;
  /** Local clock (the injected `now`) at which the token stops being used. */
  renewAt: number;
  /** Local clock at which Keystone will refuse it. */
  expiresAt: number;
  catalog: CatalogService[];
  projectId?: string;
}

/** openstacksdk's default when a user or project is named without a domain. */
const DEFAULT_DOMAIN_NAME = 'Default';
const FIVE_MINUTES = 5 * 60_000;

/**
 * The identity v3 root from clouds.yaml's `auth_url`, which operators write with or without
 * the version (`https://keystone:5000`, `.../v3`, `.../v3/`, `https://host/identity`).
 */
export function identityV3Url(authUrl: string, cloud: string): string {
  const url = authUrl.trim().replace(/\/+$/, '');
  const version = /\/v(\d+)(\.\d+)?$/.exec(url);
  if (!version) return `${url}/v3`;
  if (version[1] === '3') return url;
  throw new CloudError({
    kind: 'config',
    message: `cloud ${cloud}: auth_url ${authUrl} names identity ${version[0].slice(1)}; only Keystone v3 is supported`,
    service: 'keystone',
  });
}

/** The `POST /v3/auth/tokens` body for the credentials (password or application credential). */
export function authRequestBody(c: CloudCredentials): Record<string, unknown> {
  const missing = (what: string): never => {
    throw new CloudError({ kind: 'config', message: `cloud ${c.cloud}: ${what} missing in clouds.yaml auth`, service: 'keystone' });
  };
  if (c.authType === 'v3applicationcredential') {
    const secret = c.applicationCredentialSecret ?? missing('application_credential_secret');
    let credential: Record<string, unknown>;
    if (c.applicationCredentialId) credential = { id: c.applicationCredentialId, secret };
    else if (c.applicationCredentialName) credential = { name: c.applicationCredentialName, secret, user: userRef(c) ?? missing('user (username or user_id) of the application credential') };
    else return missing('application_credential_id or application_credential_name');
    // No scope: the token is scoped to the credential's own project, and Keystone refuses a
    // scope in an application-credential request.
    return { auth: { identity: { methods: ['application_credential'], application_credential: credential } } };
  }
  const password = c.password ?? missing('password');
  const user = userRef(c) ?? missing('username or user_id');
  const auth: Record<string, unknown> = {
    identity: { methods: ['password'], password: { user: { ...user, password } } },
  };
  if (c.projectId) auth.scope = { project: { id: c.projectId } };
  else if (c.projectName) auth.scope = { project: { name: c.projectName, domain: domainRef(c.projectDomainId, c.projectDomainName) } };
  return { auth };
}

function userRef(c: CloudCredentials): Record<string, unknown> | undefined {
  if (c.userId) return { id: c.userId };
  if (c.username) return { name: c.username, domain: domainRef(c.userDomainId, c.userDomainName) };
  return undefined;
}

function domainRef(id: string | undefined, name: string | undefined): Record<string, string> {
  if (id) return { id };
  return { name: name ?? DEFAULT_DOMAIN_NAME };
}

export interface TokenSourceOptions {
  /** Provider name, for the log. */
  provider: string;
  http: HttpClient;
  credentials: CloudCredentials;
  logger: Logger;
  now: () => number;
}

export class TokenSource {
  private current: Token | null = null;
  private inFlight: Promise<Token> | null = null;
  private readonly authUrl: string;

  constructor(private readonly opts: TokenSourceOptions) {
    this.authUrl = `${identityV3Url(opts.credentials.authUrl, opts.credentials.cloud)}/auth/tokens`;
  }

  /** A token good for now: the cached one, or a fresh one shared by every concurrent caller. */
  async token(): Promise<Token> {
    const t = this.current;
    if (t && this.opts.now() < t.renewAt) return t;
    return this.renew(t ?? undefined);
  }

  /**
   * Replaces `stale` (the token a service just refused with 401). When another caller already
   * replaced it, that newer token is returned instead of authenticating again.
   */
  async renew(stale?: Token): Promise<Token> {
    if (this.current && this.current !== stale && this.opts.now() < this.current.renewAt) return this.current;
    if (!this.inFlight) {
      this.inFlight = this.authenticate().finally(() => { this.inFlight = null; });
    }
    return this.inFlight;
  }

  private async authenticate(): Promise<Token> {
    const { credentials: c, http } = this.opts;
    const ctx = { service: 'keystone', method: 'POST', url: this.authUrl };
    const res = await http.request({
      ...ctx, method: 'POST',
      headers: { Accept: 'application/json' },
      body: authRequestBody(c),
    });
    if (res.status !== 201 && res.status !== 200) {
      const err = classifyAnswer({ ...ctx, status: res.status, headers: res.headers, body: res.body, now: this.opts.now() });
      if (res.status === 401) {
        throw new CloudError({
          kind: 'config',
          message: `cloud ${c.cloud}: Keystone refused the ${c.authType === 'v3applicationcredential' ? 'application credential' : 'password'} credentials at ${this.authUrl} (401)`,
          status: 401, service: 'keystone', method: 'POST', url: this.authUrl, requestId: err.requestId,
        });
      }
      throw err;
    }
    const value = res.headers['x-subject-token'];
    const body = parseBody(TokenBodySchema, res.body, { ...ctx, status: res.status, requestId: res.requestId });
    if (!value) {
      throw new CloudError({ kind: 'fatal', message: `cloud ${c.cloud}: Keystone answered ${res.status} without X-Subject-Token`, service: 'keystone', method: 'POST', url: this.authUrl });
    }
    const token = this.toToken(value, body.token);
    this.current = token;
    this.opts.logger.info({ provider: this.opts.provider, cloud: c.cloud, service: 'keystone', project: token.projectId, validMs: token.expiresAt - this.opts.now() }, 'authenticated');
    return token;
  }

  private toToken(value: string, t: { expires_at: string; issued_at?: string; project?: { id: string }; catalog?: CatalogService[] }): Token {
    const now = this.opts.now();
    const expires = Date.parse(t.expires_at);
    const issued = t.issued_at ? Date.parse(t.issued_at) : Number.NaN;
    if (Number.isNaN(expires)) {
      throw new CloudError({ kind: 'fatal', message: `cloud ${this.opts.credentials.cloud}: token expires_at ${t.expires_at} is not a date`, service: 'keystone' });
    }
    // Measure the lifetime on Keystone's clock (expires - issued) and lay it on ours, so a
    // skewed local clock neither renews every call nor uses an expired token.
    const lifetime = Number.isNaN(issued) ? expires - now : expires - issued;
    // Renew when less than 5 minutes or 10% of the lifetime remains, whichever is smaller:
    // a 24 h token is renewed 5 min early, a 10 min token 1 min early.
    const margin = Math.min(FIVE_MINUTES, lifetime * 0.1);
    return {
      value,
      expiresAt: now + lifetime,
      renewAt: now + lifetime - margin,
      catalog: t.catalog ?? [],
      projectId: t.project?.id,
    };
  }
}
