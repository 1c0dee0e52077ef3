/** Worker-thread entry for eSpeak NG; started by `EspeakEngine` through `SynthesisWorkerPool`. */
import { serveSynthesisBackend } from '../synthesis-worker-runtime.js';
import { createEspeakBackend } from './espeak-backend.js';

serveSynthesisBackend(() => createEspeakBackend());
