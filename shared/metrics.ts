import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Outcomes a message can have, as the `outcome` label of `vigil_messages_total`. */
export const OUTCOMES = ['done', 'duplicate', 'rejected', 'retried', 'dead_lettered', 'requeued'] as const;
export type MessageOutcome = (typeof OUTCOMES)[number];

/**
 * The contract's metrics (CONTRACT.md, "Metrics"). One registry per process; services
 * running together in one process (`vigil run all`) share it and differ by label.
 * No label carries a person's identity.
 */
export interface Metrics {
  registry: Registry;
  messagesTotal: Counter<'service' | 'queue' | 'outcome'>;
  messageDuration: Histogram<'service' | 'queue'>;
  inFlight: Gauge<'service'>;
  retriesTotal: Counter<'service' | 'queue'>;
  deadLetteredTotal: Counter<'service' | 'queue'>;
  faceResultsTotal: Counter<'type' | 'result'>;
  /** Mean encoding progress (0–1) of the video jobs running in this process; 0 when idle. */
  transcodeProgress: Gauge<'service'>;
  /** Seconds of source video encoded; its rate is the encoding speed against real time. */
  transcodeMediaSeconds: Counter<'service'>;
  /** Sampled frames by verdict: `kept`, or the reason it was dropped (`black`, `frozen`, `blurred`). */
  transcodeFrames: Counter<'service' | 'verdict'>;
  /** Time per stage of a video job: `download`, `encode` (the ffmpeg pass), `finish` (uploads left after it), `total`. */
  transcodeStageSeconds: Histogram<'service' | 'stage'>;
  /** 1 for the TensorFlow.js backend the face engine loaded (`tensorflow`, `wasm`, `cpu`); absent until it has. */
  faceBackendInfo: Gauge<'backend'>;
  /** Notifications by channel, template and outcome (`sent`, `duplicate`, `failed`, `folded`, `retried`): no recipient in any label. */
  notificationsTotal: Counter<'channel' | 'template' | 'outcome'>;
  /** Console sign-ins by outcome (`success`, `failed`, `throttled`, `form_expired`): no account or address in any label. */
  consoleSigninsTotal: Counter<'outcome'>;
}

export function createMetrics(opts: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    messagesTotal: new Counter({
      name: 'vigil_messages_total',
      help: 'Messages handled, by outcome',
      labelNames: ['service', 'queue', 'outcome'],
      registers,
    }),
    messageDuration: new Histogram({
      name: 'vigil_message_duration_seconds',
      help: 'Time from delivery to outcome',
      labelNames: ['service', 'queue'],
      buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 1800, 3600],
      registers,
    }),
    inFlight: new Gauge({
      name: 'vigil_in_flight',
      help: 'Messages being handled now',
      labelNames: ['service'],
      registers,
    }),
    retriesTotal: new Counter({
      name: 'vigil_retries_total',
      help: 'Messages sent to a retry queue after a transient failure',
      labelNames: ['service', 'queue'],
      registers,
    }),
    deadLetteredTotal: new Counter({
      name: 'vigil_dead_lettered_total',
      help: 'Messages moved to the dead-letter queue',
      labelNames: ['service', 'queue'],
      registers,
    }),
    faceResultsTotal: new Counter({
      name: 'vigil_face_results_total',
      help: 'Face results written, by image type and result code',
      labelNames: ['type', 'result'],
      registers,
    }),
    transcodeProgress: new Gauge({
      name: 'vigil_transcode_progress_ratio',
      help: 'Mean encoding progress (0-1) of the video jobs running now',
      labelNames: ['service'],
      registers,
    }),
    transcodeMediaSeconds: new Counter({
      name: 'vigil_transcode_media_seconds_total',
      help: 'Seconds of source video encoded',
      labelNames: ['service'],
      registers,
    }),
    transcodeFrames: new Counter({
      name: 'vigil_transcode_frames_total',
      help: 'Sampled video frames, kept or dropped as black, frozen or blurred',
      labelNames: ['service', 'verdict'],
      registers,
    }),
    transcodeStageSeconds: new Histogram({
      name: 'vigil_transcode_stage_seconds',
      help: 'Time per stage of a video job (download, encode, finish, total)',
      labelNames: ['service', 'stage'],
      buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900, 1800, 3600, 10800],
      registers,
    }),
    faceBackendInfo: new Gauge({
      name: 'vigil_face_backend_info',
      help: 'The face engine backend in use (value 1, label backend)',
      labelNames: ['backend'],
      registers,
    }),
    notificationsTotal: new Counter({
      name: 'vigil_notifications_total',
      help: 'Notifications by channel, template and outcome',
      labelNames: ['channel', 'template', 'outcome'],
      registers,
    }),
    consoleSigninsTotal: new Counter({
      name: 'vigil_console_signins_total',
      help: 'Console sign-ins by outcome',
      labelNames: ['outcome'],
      registers,
    }),
  };
}
