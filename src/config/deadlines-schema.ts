import { z } from 'zod';

/** `package.Service` or `package.Service/Method`: the keys of per-method overrides. */
export const methodKey = z.string().regex(
  // A service without a package (a routed `Search`) has a bare name.
  /^\/?[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*(\/[A-Za-z_][A-Za-z0-9_]*)?$/,
  'a fully-qualified service (cheesefarm.v1.CheeseService) or method (cheesefarm.v1.CheeseService/Order)',
);

const ms = z.number().int().min(0);

/** Fields of a deadline policy; an override may set any of them. */
const deadlineFields = {
  /** Deadline given to calls that carry none, in ms; 0 leaves them without one. */
  defaultMs: ms,
  /** Longer client deadlines are cut to this, in ms; 0 accepts any. */
  maxMs: ms,
  /** Calls arriving with less time left fail at once with DEADLINE_EXCEEDED, in ms; 0 disables. */
  minBudgetMs: ms,
};

/**
 * Long-lived streams must not get the unary default: a watch is meant to stay
 * open, and reflection streams serve a whole grpcurl session.
 */
const DEFAULT_DEADLINE_OVERRIDES = {
  'grpc.health.v1.Health/Watch': { defaultMs: 0, maxMs: 0 },
  'cheesefarm.v1.CheeseService/WatchOrders': { defaultMs: 0, maxMs: 0 },
  'grpc.reflection.v1.ServerReflection': { defaultMs: 0 },
  'grpc.reflection.v1alpha.ServerReflection': { defaultMs: 0 },
  'gatehouse.stt.v1.SpeechToText/StreamingRecognize': { defaultMs: 300_000, maxMs: 3_600_000 },
  'gatehouse.tts.v1.TextToSpeech/StreamingSynthesize': { defaultMs: 120_000 },
};

/** The `deadlines` config section: per-method deadline policy (interceptors/deadline.ts). */
export const DeadlinesSchema = z
  .strictObject({
    /** Deadline for calls that carry none, in ms. Default 30000; 0 leaves them without one. */
    defaultMs: ms.default(30_000),
    /** Longer client deadlines are cut to this, in ms. Default 600000 (10 min); 0 accepts any. */
    maxMs: ms.default(600_000),
    /** Calls arriving with less than this left fail at once with DEADLINE_EXCEEDED, in ms. Default 5; 0 disables. */
    minBudgetMs: ms.default(5),
    /**
     * Overrides by service or method, field by field (method over service over the
     * defaults above). Default: watch and reflection streams get no default deadline,
     * streaming recognition 5 min (max 1 h), streaming synthesis 2 min. Setting
     * this key replaces that whole map.
     */
    methods: z.record(methodKey, z.strictObject(deadlineFields).partial()).default(DEFAULT_DEADLINE_OVERRIDES),
  })
  .prefault({});
