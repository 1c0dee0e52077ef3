/** SpeechToText: the service factory and its config section. */
export { createSpeechToTextService, SPEECH_TO_TEXT_SERVICE_NAME } from './speech-to-text-service.js';
export { SttConfigSchema, type SttConfig } from './stt-config.js';
