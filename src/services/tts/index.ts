/** TextToSpeech: the service factory, its config schema and the names other modules need. */
export { createTextToSpeechService, createConfiguredEngines, TTS_SERVICE_NAME } from './text-to-speech-service.js';
export type { SplicedPiece, TextToSpeechService } from './text-to-speech-service.js';
export { TtsConfigSchema } from './tts-config.js';
