/**
 * One cloud's connection settings, resolved from clouds.yaml + secure.yaml (or OS_* variables)
 * the way openstacksdk merges them. The OpenStack driver needs nothing else to connect.
 */
export interface CloudCredentials {
  /** clouds.yaml name of the cloud. */
  cloud: string;
  /** `password` or `v3applicationcredential` (also accepted: `v3password`, `application_credential`). */
  authType: 'password' | 'v3applicationcredential';
  /** Keystone URL as written (with or without `/v3`). */
  authUrl: string;
  username?: string;
  userId?: string;
  password?: string;
  userDomainName?: string;
  userDomainId?: string;
  projectName?: string;
  projectId?: string;
  projectDomainName?: string;
  projectDomainId?: string;
  applicationCredentialId?: string;
  applicationCredentialName?: string;
  applicationCredentialSecret?: string;
  regionName?: string;
  /** Endpoint interface in the catalog: public (default), internal, admin. */
  interface: 'public' | 'internal' | 'admin';
  /** Verify TLS certificates (clouds.yaml `verify`). Default true. */
  verify: boolean;
  /** CA bundle path (clouds.yaml `cacert`). */
  cacert?: string;
  /** Seconds a call may take before it is given up (clouds.yaml `api_timeout`); default 30. */
  apiTimeout?: number;
}
