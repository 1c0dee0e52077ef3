/** Worker-thread entry for eSpeak NG; started by the eSpeak engine through the worker pool. */
import { serveSynthesisBackend } from '../synthesis-worker-runtime.js';
import { createEspeakBackend } from './espeak-backend.js';

serveSynthesisBackend(() => createEspeakBackend());
