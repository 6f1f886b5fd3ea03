import sodium from 'libsodium-wrappers';

/**
 * libsodium, initialised once at import (its WebAssembly module loads in about 5 ms), so that
 * the configuration loader, which is synchronous, can unseal values without turning async.
 */
await sodium.ready;

export { sodium };
