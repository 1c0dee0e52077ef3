/** TextToSpeech: the service factory, its config schema and the names other modules need. */
export { createTextToSpeechService, createConfiguredEngines, TTS_SERVICE_NAME } from './text-to-speech-service.js';
export type { TextToSpeechService, TextToSpeechServiceOptions } from './text-to-speech-service.js';
export { TtsConfigSchema, type TtsConfig } from './tts-config.js';
export { SUPPORTED_SAMPLE_RATES_HZ } from './synthesis-plan.js';
