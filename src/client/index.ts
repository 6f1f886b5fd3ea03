export { NodepoolClient, type ClientOptions } from './client.ts';
export { HttpTransport, type CallOptions } from './http.ts';
export { keepLease, type LeaseKeeperOptions } from './lease.ts';
