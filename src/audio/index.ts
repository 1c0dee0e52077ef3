/** Audio codecs and helpers shared by the speech services; see each module for details. */
export * from './audio-format-error.js';
export * from './pcm.js';
export * from './resample.js';
export * from './wav.js';
export * from './g711.js';
export * from './ogg-opus.js';
export * from './decode-audio.js';
export * from './encode-audio.js';
