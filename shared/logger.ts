import { pino, stdSerializers, type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * Paths whose values never reach a log line: secrets, and image bytes (a face is
 * biometric data). Wildcards cover one level of nesting, as pino's redaction does.
 */
const REDACT_PATHS = [
  'password', '*.password', 'secret', '*.secret', 'secretAccessKey', '*.secretAccessKey',
  'token', '*.token', 'accessToken', '*.accessToken', 'authorization', '*.authorization',
  'headers.authorization', 'image', '*.image', 'bytes', '*.bytes', 'body', '*.body',
];

/** pino's levels, and `silent`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LoggerOptions {
  /** @default 'info' */
  level?: LogLevel;
  /** Bindings on every line, e.g. `{ service: 'facetraining' }`. */
  base?: Record<string, unknown>;
  /** @default stdout */
  destination?: DestinationStream;
}

/** JSON lines to stdout (the CLI points it at stderr so `--json` output stays clean). */
export function createLogger(opts: LoggerOptions = {}): Logger {
  return pino(
    {
      level: opts.level ?? 'info',
      base: { pid: process.pid, ...opts.base },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      serializers: { err: serializeError, error: serializeError },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    opts.destination,
  );
}

/** pino's error serializer keeps `code` and follows `cause`; buffers never print. */
function serializeError(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  const out = stdSerializers.err(err) as unknown as Record<string, unknown>;
  for (const [k, v] of Object.entries(out)) if (Buffer.isBuffer(v)) out[k] = `[${v.length} bytes]`;
  return out;
}

/** A URL safe to log: the password replaced. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '[unparseable url]';
  }
}
