export type { OpContext } from './context.ts';
export * from './errors.ts';
export { createRequest, cancelRequest, releaseRequest, heartbeat } from './requests.ts';
export { CreateRequestInput, ReleaseInput } from '../api/contract.ts';
export { holdNode, deleteNode, HoldInput } from './nodes.ts';
