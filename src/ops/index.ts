export type { OpContext } from './context.ts';
export * from './errors.ts';
export { createRequest, cancelRequest, releaseRequest, heartbeat, CreateRequestInput, ReleaseInput } from './requests.ts';
export { holdNode, deleteNode, HoldInput } from './nodes.ts';
