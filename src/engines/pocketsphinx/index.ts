/** PocketSphinx speech recognition engine: a pool of warm decoders in worker threads. */
export * from './recognizer-pool.js';
export * from './recognizer-errors.js';
export * from './recognition-result.js';
export { DEFAULT_MODEL_DIR, DECODER_SAMPLE_RATE_HZ } from './decoder.js';
