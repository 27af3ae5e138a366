/**
 * Errors carry a `code` and their `cause`, and say whether trying again can help.
 *
 * - permanent: the input is bad (unparseable body, unknown id, corrupt media). Retrying
 *   cannot help; the job records it, or the message is dead-lettered.
 * - transient: a dependency is down or busy (database, broker, storage, a remote API).
 *   The runtime retries with back-off, then dead-letters.
 *
 * An error that is not a VigilError (a bug, a driver error) counts as transient: it is
 * retried a bounded number of times and then kept in the dead-letter queue, never dropped.
 */
export class VigilError extends Error {
  readonly code: string;
  readonly permanent: boolean;

  constructor(code: string, message: string, opts: { permanent?: boolean; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'VigilError';
    this.code = code;
    this.permanent = opts.permanent ?? false;
  }
}

/** Bad input: retrying cannot help. */
export class PermanentError extends VigilError {
  constructor(code: string, message: string, cause?: unknown) {
    super(code, message, { permanent: true, cause });
    this.name = 'PermanentError';
  }
}

/** Try again later: a dependency is down, or the job waits on another (a pending enrolment). */
export class TransientError extends VigilError {
  constructor(code: string, message: string, cause?: unknown) {
    super(code, message, { permanent: false, cause });
    this.name = 'TransientError';
  }
}

export function isPermanent(err: unknown): boolean {
  return err instanceof VigilError && err.permanent;
}

export function errorCode(err: unknown): string {
  if (err instanceof VigilError) return err.code;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'UNEXPECTED';
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Codes of a connection that could not be made or was lost, from Node, undici, mysql2 and
 * the AWS SDK: the other side did not answer, so waiting can help.
 */
export const NETWORK_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN',
  'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'EHOSTDOWN', 'ERR_STREAM_PREMATURE_CLOSE', 'UND_ERR_SOCKET',
  'ERR_SOCKET_CONNECTION_TIMEOUT', 'PROTOCOL_CONNECTION_LOST', 'PROTOCOL_SEQUENCE_TIMEOUT',
]);
