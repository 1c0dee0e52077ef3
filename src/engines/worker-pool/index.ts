/** The engine worker pool: one pool, one error type, one status mapping, for every speech engine. */
export * from './worker-pool.js';
export * from './worker-pool-config.js';
export * from './worker-pool-error.js';
export * from './worker-pool-status.js';
