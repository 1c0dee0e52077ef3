/**
 * The contract between the TextToSpeech service and a speech synthesis engine (eSpeak NG, Flite). Engines run
 * their synthesiser off the event loop, stream audio as it is produced, honour an AbortSignal, and describe their
 * voices; everything about the API (encodings, rates, validation) lives in the service.
 */

/** Voice gender as the API names it. */
export type VoiceGender = 'MALE' | 'FEMALE' | 'NEUTRAL';

/** A language a voice speaks, with the engine's preference (lower priority = better match). */
export interface VoiceLanguage {
  /** BCP-47 code with conventional casing, e.g. `en-US`, `ru`. */
  code: string;
  /** Engine preference among voices for this language; lower wins. */
  priority: number;
}

/** One voice an engine can speak with. */
export interface EngineVoice {
  /** Client-facing name, unique across all engines (e.g. `en-US`, `en-US+f3`, `kal16`). */
  name: string;
  /** Languages, best first. */
  languages: readonly VoiceLanguage[];
  /** Perceived gender. */
  gender: VoiceGender;
  /** The rate the engine produces, in Hz. */
  naturalSampleRateHz: number;
  /** Engine name, e.g. `espeak-ng` or `flite`. */
  engine: string;
}

/** What to say and how. */
export interface SynthesisRequest {
  /** A name from `voices()`. */
  voiceName: string;
  /** Plain text (not SSML); engines escape whatever markup their synthesiser would interpret. */
  text: string;
  /** Speed relative to the voice's normal rate (1 = normal); engines clamp to what they support. */
  speakingRate: number;
  /** Pitch shift in semitones (0 = the voice's own); engines approximate and clamp. */
  pitchSemitones: number;
  /**
   * Text that comes before `text` in the same sentence (the end of a template's previous piece). An engine whose
   * `synthesizesInContext` is true synthesises it too, so that `text` starts as it would mid-sentence, and delivers
   * audio only from where `text` starts (less `CONTEXT_MARGIN_MS`). Other engines ignore it. Default: none (`text`
   * starts the utterance).
   */
  preceding?: string;
  /**
   * Text that follows `text` in the same sentence (the start of a template's next piece). An engine whose
   * `synthesizesInContext` is true synthesises it too, so that `text` ends as it would mid-sentence (no
   * sentence-final lengthening), and delivers audio only up to where the continuation starts (plus
   * `CONTEXT_MARGIN_MS`): any pause the engine makes there is included. Other engines ignore it. Default: none
   * (`text` ends the utterance).
   */
  continuation?: string;
}

/**
 * Audio of the context an engine keeps beyond each cut (see `SynthesisRequest.preceding`), in ms: two pieces cut at
 * the same point of a sentence then overlap by twice this for a cross-fade centred on the cut, and lose no time.
 */
export const CONTEXT_MARGIN_MS = 6;

/** Per-call hooks. */
export interface SynthesisCallOptions {
  /** Stops the synthesis (queued or running); the promise then rejects with `signal.reason`. */
  signal?: AbortSignal;
  /**
   * Receives audio at `naturalSampleRateHz` in order, as produced. When it returns a promise the engine delivers
   * nothing more until it settles; meanwhile the engine buffers what the synthesiser produces, up to a bound, so the
   * worker is free again as soon as the audio exists. Only a reader further behind than that pauses the
   * synthesiser (and loses the worker if it stays paused too long). A rejection cancels the synthesis.
   */
  onChunk: (samples: Int16Array) => void | Promise<void>;
}

/** How a synthesis went. */
export interface SynthesisResult {
  /** Rate of the delivered samples, in Hz. */
  sampleRateHz: number;
  /** Samples delivered through `onChunk`. */
  sampleCount: number;
  /** Time spent waiting for a free worker, in ms. */
  queueWaitMs: number;
  /** Time from the worker taking the job to its end, in ms (includes waiting on a slow `onChunk`). */
  synthesisMs: number;
}

/** Counters for tests, benchmarks and metrics. */
export interface EngineStats {
  /** Worker threads configured. */
  workers: number;
  /** Workers running a synthesis now (or finishing a cancelled one). */
  busy: number;
  /** Warm workers waiting for a synthesis (the rest are starting or waiting to retry a failed start). */
  idle: number;
  /** False when no worker can serve (every one failed to start and waits to retry) or the engine is stopped. */
  available: boolean;
  /** Jobs waiting for a worker. */
  queued: number;
  /** Syntheses started since the engine started (cancelled and failed included). */
  started: number;
  /** Syntheses that ran to the end. */
  completed: number;
  /** Syntheses stopped by their AbortSignal or by their consumer. */
  cancelled: number;
  /** Syntheses that failed (engine error, crash, hang). */
  failed: number;
  /** Workers terminated and replaced (crash, hang, or a cancel the synthesiser did not honour in time). */
  replaced: number;
  /** Audio synthesised but not yet taken by slow readers, in bytes (bounded by `bufferBytesTotal`). */
  bufferedBytes: number;
}

/** A speech synthesis engine. */
export interface TtsEngine {
  /** Engine name as reported in `Voice.engine`. */
  readonly name: string;
  /** Whether `SynthesisRequest.preceding` and `continuation` are honoured (audio cut where they end and start). Default false. */
  readonly synthesizesInContext?: boolean;
  /** Starts and warms every worker; resolves when all can synthesise at full speed. */
  start(): Promise<void>;
  /** Voices, valid after `start` resolved. */
  voices(): readonly EngineVoice[];
  /** Synthesises one text, streaming audio to `options.onChunk`. Fails with a `WorkerPoolError` or `signal.reason`. */
  synthesize(request: SynthesisRequest, options: SynthesisCallOptions): Promise<SynthesisResult>;
  /** Current counters. */
  stats(): EngineStats;
  /** Stops all workers; queued and running jobs fail with a `stopped` WorkerPoolError. */
  stop(): Promise<void>;
}
