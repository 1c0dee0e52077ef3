/** Worker-thread entry for Flite; started by the Flite engine through the worker pool. */
import { serveSynthesisBackend } from '../synthesis-worker-runtime.js';
import { createFliteBackend } from './flite-backend.js';

serveSynthesisBackend(() => createFliteBackend());
