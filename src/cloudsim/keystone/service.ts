/**
 * Keystone (identity v3.14): version discovery, tokens by password, application credential or
 * token, token validation, and a user's own application credentials. One user and project per
 * cloud (`nodepool` in domain Default); the catalog lists the cloud's endpoints.
 */
import { randomBytes } from 'node:crypto';
import {
  REASONS, SimError, UNAUTHORIZED_MESSAGE, isObject, parseJson, type RouteDef, type ServiceDef, type SimReply, type SimRequest,
} from '../service.ts';
import type { AppCredRecord, CloudState, TokenRecord } from '../state.ts';
import { hexId, keystoneTime } from '../util.ts';

const DOMAIN = { id: 'default', name: 'Default' };
const V3_UPDATED = '2020-04-07T00:00:00Z';

const unauthorized = () => new SimError(401, UNAUTHORIZED_MESSAGE);
const badRequest = (message: string) => new SimError(400, message);

function v3Doc(cloud: CloudState) {
  return {
    id: 'v3.14', status: 'stable', updated: V3_UPDATED,
    links: [{ rel: 'self', href: `${cloud.endpoints().identity}/v3/` }],
    'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.identity-v3+json' }],
  };
}

function catalog(cloud: CloudState) {
  const urls = cloud.endpoints();
  // devstack registers Cinder v3 twice: as `block-storage` (cinder) and as the older `volumev3` (cinderv3).
  const services = [
    ['image', 'glance', urls.image], ['compute', 'nova', urls.compute], ['network', 'neutron', urls.network],
    ['block-storage', 'cinder', urls.volume], ['volumev3', 'cinderv3', urls.volume], ['identity', 'keystone', urls.identity],
  ];
  return services.map(([type, name, url]) => ({
    endpoints: ['public', 'internal', 'admin'].map((iface) => ({
      id: cloud.catalogIds.endpoints[`${type}/${iface}`], interface: iface, region_id: cloud.region, url, region: cloud.region,
    })),
    id: cloud.catalogIds.services[type], type, name,
  }));
}

function tokenBody(cloud: CloudState, t: TokenRecord) {
  const token: Record<string, unknown> = {
    methods: t.methods,
    user: { domain: DOMAIN, id: cloud.userId, name: cloud.username, password_expires_at: null },
    audit_ids: [t.auditId],
    expires_at: keystoneTime(t.expiresAt),
    issued_at: keystoneTime(t.issuedAt),
  };
  if (t.projectId) {
    token.project = { domain: DOMAIN, id: cloud.projectId, name: cloud.projectName };
    token.is_domain = false;
    token.roles = cloud.roles.map((r) => ({ id: r.id, name: r.name }));
    token.catalog = catalog(cloud);
  }
  if (t.appCred) token.application_credential = { id: t.appCred.id, name: t.appCred.name, restricted: true };
  return { token };
}

function domainMatches(d: unknown): boolean {
  if (!isObject(d)) return false;
  return d.id !== undefined ? d.id === DOMAIN.id : d.name === DOMAIN.name;
}

/** The user named by `{id}` or `{name, domain}`; false when it is not ours. */
function isOurUser(cloud: CloudState, user: unknown): boolean {
  if (!isObject(user)) return false;
  if (user.id !== undefined) return user.id === cloud.userId;
  if (typeof user.name !== 'string') return false;
  if (user.domain === undefined) throw badRequest('Expecting to find domain in user. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.');
  return user.name === cloud.username && domainMatches(user.domain);
}

/** The project a scope names, or null for an unscoped token. */
function scopedProject(cloud: CloudState, scope: unknown): string | null {
  if (scope === undefined) return null;
  if (!isObject(scope) || !isObject(scope.project)) throw unauthorized();
  const p = scope.project;
  const ok = p.id !== undefined ? p.id === cloud.projectId : p.name === cloud.projectName && domainMatches(p.domain);
  if (!ok) throw unauthorized();
  return cloud.projectId;
}

function findAppCred(cloud: CloudState, ac: Record<string, unknown>): AppCredRecord {
  let found: AppCredRecord | undefined;
  if (typeof ac.id === 'string') found = cloud.appCreds.get(ac.id);
  else if (typeof ac.name === 'string') {
    if (!isOurUser(cloud, ac.user)) throw unauthorized();
    found = [...cloud.appCreds.values()].find((c) => c.name === ac.name);
  } else throw badRequest('Expecting to find id or name in application_credential.');
  if (!found || ac.secret !== found.secret) throw unauthorized();
  if (found.expiresAt !== null && found.expiresAt <= Date.now()) throw unauthorized();
  return found;
}

function issue(req: SimRequest): SimReply {
  const { cloud } = req;
  const parsed = parseJson(req.body);
  if (!parsed.ok) throw badRequest('The request body could not be parsed as JSON.');
  const auth = isObject(parsed.value) ? parsed.value.auth : undefined;
  if (!isObject(auth) || !isObject(auth.identity)) throw badRequest("Invalid input for field 'identity': 'identity' is a required property");
  const identity = auth.identity;
  const methods = Array.isArray(identity.methods) ? identity.methods.filter((m): m is string => typeof m === 'string') : [];
  let token: TokenRecord;
  if (methods.includes('application_credential')) {
    if (!isObject(identity.application_credential)) throw badRequest('Expecting to find application_credential in identity.');
    // The credential carries its own project; Keystone refuses any other scope request.
    if (auth.scope !== undefined) throw unauthorized();
    const cred = findAppCred(cloud, identity.application_credential);
    token = cloud.issueToken({ userId: cloud.userId, projectId: cred.projectId, methods: ['application_credential'], appCred: { id: cred.id, name: cred.name } });
  } else if (methods.includes('password')) {
    const user = isObject(identity.password) ? identity.password.user : undefined;
    if (!isObject(user)) throw badRequest('Expecting to find user in password.');
    if (!isOurUser(cloud, user) || user.password !== cloud.password) throw unauthorized();
    token = cloud.issueToken({ userId: cloud.userId, projectId: scopedProject(cloud, auth.scope), methods: ['password'] });
  } else if (methods.includes('token')) {
    const previous = cloud.validToken(isObject(identity.token) ? String(identity.token.id) : undefined);
    if (!previous) throw unauthorized();
    const projectId = auth.scope === undefined ? previous.projectId : scopedProject(cloud, auth.scope);
    token = cloud.issueToken({ userId: cloud.userId, projectId, methods: ['token', ...previous.methods.filter((m) => m !== 'token')], appCred: previous.appCred });
  } else {
    throw unauthorized();
  }
  return { status: 201, headers: { 'X-Subject-Token': token.id }, body: tokenBody(cloud, token) };
}

function validate(req: SimRequest): SimReply {
  const subject = req.headers['x-subject-token'];
  const t = req.cloud.validToken(typeof subject === 'string' ? subject : undefined);
  if (!t) throw new SimError(404, `Could not find token: ${String(subject)}.`);
  return { status: 200, headers: { 'X-Subject-Token': t.id }, body: tokenBody(req.cloud, t) };
}

function revoke(req: SimRequest): SimReply {
  const subject = req.headers['x-subject-token'];
  if (typeof subject !== 'string' || !req.cloud.tokens.delete(subject)) throw new SimError(404, `Could not find token: ${String(subject)}.`);
  return { status: 204, contentType: '' };
}

/** Only the user itself, with a token that is not an application credential's, manages its credentials. */
function ownCredentials(req: SimRequest, managing: boolean): void {
  if (req.params.userId !== req.cloud.userId || req.token?.userId !== req.params.userId) {
    throw new SimError(403, 'You are not authorized to perform the requested action: identity:create_application_credential.');
  }
  if (managing && req.token.appCred) {
    throw new SimError(403, "Using method 'application_credential' is not allowed for managing additional application credentials.");
  }
}

function appCredView(cloud: CloudState, c: AppCredRecord, withSecret: boolean) {
  return {
    id: c.id, name: c.name, description: c.description, user_id: c.userId, project_id: c.projectId, system: null,
    expires_at: c.expiresAt === null ? null : keystoneTime(c.expiresAt), unrestricted: c.unrestricted || null,
    roles: cloud.roles.map((r) => ({ id: r.id, name: r.name, domain_id: null, description: null, options: { immutable: true } })),
    ...(withSecret ? { secret: c.secret } : {}),
    links: { self: `${cloud.endpoints().identity}/v3/application_credentials/${c.id}` },
  };
}

function appCredCreate(req: SimRequest): SimReply {
  ownCredentials(req, true);
  const { cloud } = req;
  const parsed = parseJson(req.body);
  const ac = parsed.ok && isObject(parsed.value) ? parsed.value.application_credential : undefined;
  if (!isObject(ac) || typeof ac.name !== 'string' || ac.name === '') {
    throw badRequest("Invalid input for field 'application_credential': 'name' is a required property");
  }
  if ([...cloud.appCreds.values()].some((c) => c.name === ac.name)) {
    throw new SimError(409, `Conflict occurred attempting to store application_credential - Duplicate entry found with name ${ac.name}.`);
  }
  const expires = typeof ac.expires_at === 'string' ? Date.parse(ac.expires_at) : NaN;
  const cred: AppCredRecord = {
    id: hexId(), name: ac.name, description: typeof ac.description === 'string' ? ac.description : null,
    // 64 random bytes: the 86-character URL-safe secret Keystone generates.
    secret: typeof ac.secret === 'string' ? ac.secret : randomBytes(64).toString('base64url'),
    userId: cloud.userId, projectId: req.token!.projectId ?? cloud.projectId,
    expiresAt: Number.isNaN(expires) ? null : expires, unrestricted: ac.unrestricted === true,
  };
  cloud.appCreds.set(cred.id, cred);
  return { status: 201, body: { application_credential: appCredView(cloud, cred, true) } };
}

function appCredList(req: SimRequest): SimReply {
  ownCredentials(req, false);
  const creds = [...req.cloud.appCreds.values()].map((c) => appCredView(req.cloud, c, false));
  const self = `${req.cloud.endpoints().identity}/v3/users/${req.params.userId}/application_credentials`;
  return { status: 200, body: { application_credentials: creds, links: { self, previous: null, next: null } } };
}

function appCredOf(req: SimRequest): AppCredRecord {
  const c = req.cloud.appCreds.get(req.params.id);
  if (!c) throw new SimError(404, `Could not find application credential: ${req.params.id}.`);
  return c;
}

const v3 = '/identity/v3';
export const keystone: ServiceDef = {
  name: 'keystone',
  statsRoots: ['/identity'],
  routes: [
    {
      method: 'GET', path: '/identity/', auth: false,
      handler: (req) => ({ status: 300, headers: { Location: `${req.cloud.endpoints().identity}/v3/` }, body: { versions: { values: [v3Doc(req.cloud)] } } }),
    },
    { method: 'GET', path: `${v3}/`, auth: false, handler: (req) => ({ status: 200, body: { version: v3Doc(req.cloud) } }) },
    { method: 'POST', path: `${v3}/auth/tokens`, auth: false, handler: issue },
    { method: 'GET', path: `${v3}/auth/tokens`, auth: true, handler: validate },
    { method: 'DELETE', path: `${v3}/auth/tokens`, auth: true, handler: revoke },
    { method: 'POST', path: `${v3}/users/:userId/application_credentials`, auth: true, handler: appCredCreate },
    { method: 'GET', path: `${v3}/users/:userId/application_credentials`, auth: true, handler: appCredList },
    {
      method: 'GET', path: `${v3}/users/:userId/application_credentials/:id`, auth: true,
      handler: (req) => (ownCredentials(req, false), { status: 200, body: { application_credential: appCredView(req.cloud, appCredOf(req), false) } }),
    },
    {
      method: 'DELETE', path: `${v3}/users/:userId/application_credentials/:id`, auth: true,
      handler: (req) => {
        ownCredentials(req, true);
        req.cloud.appCreds.delete(appCredOf(req).id);
        return { status: 204, contentType: '' };
      },
    },
  ] satisfies RouteDef[],
  decorate(req, reply) {
    const h = (reply.headers ??= {});
    h['Vary'] = 'X-Auth-Token';
    h['x-openstack-request-id'] = req.requestId;
  },
  error(_req, err) {
    const headers: Record<string, string> = { ...err.headers };
    if (err.status === 401) headers['WWW-Authenticate'] = `Keystone uri="${_req.cloud.endpoints().identity}/v3"`;
    return { status: err.status, headers, body: { error: { code: err.status, message: err.message, title: REASONS[err.status] ?? 'Error' } } };
  },
  unauthorized(req) {
    return keystone.error(req, unauthorized());
  },
};
