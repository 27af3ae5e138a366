import { NETWORK_ERROR_CODES, PermanentError, TransientError, VigilError } from '../errors.ts';

/**
 * SDK and network errors sorted into the project's two kinds. The SDK's own exception is
 * never kept as the cause: some carry the access key id, the string that was signed and
 * the raw response, and a cause ends up in log lines and dead-letter headers. The cause is
 * a plain Error with the name, HTTP status and request id instead.
 */

export type StorageOperation = 'ensureBucket' | 'download' | 'read' | 'upload' | 'copy' | 'head' | 'delete' | 'list';

interface SdkLikeError {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  $metadata?: { httpStatusCode?: number; requestId?: string };
  $retryable?: unknown;
}

const NOT_FOUND_OBJECT = new Set(['NoSuchKey', 'NotFound', 'NoSuchUpload', 'NoSuchVersion']);
const DENIED = new Set([
  'AccessDenied', 'AllAccessDisabled', 'InvalidAccessKeyId', 'SignatureDoesNotMatch',
  'InvalidToken', 'ExpiredToken', 'AccountProblem', 'Forbidden',
]);
/** Names that arrive with a 4xx status but mean "busy" or "try again". */
const TRANSIENT_NAMES = new Set([
  'SlowDown', 'Throttling', 'ThrottlingException', 'TooManyRequestsException', 'RequestTimeout',
  'RequestTimeTooSkewed', 'RequestTimeoutException', 'OperationAborted', 'TimeoutError',
  'ServiceUnavailable', 'InternalError', 'PriorRequestNotComplete',
]);

/** Where the failure happened, for the message; keys may be personal, so only the bucket. */
export interface StorageErrorContext {
  op: StorageOperation;
  bucket: string;
}

export function toStorageError(err: unknown, ctx: StorageErrorContext, signal?: AbortSignal): VigilError {
  if (err instanceof VigilError) return err;
  const e = (err ?? {}) as SdkLikeError;
  const name = typeof e.name === 'string' ? e.name : 'Error';
  const code = typeof e.code === 'string' ? e.code : undefined;
  const status = e.$metadata?.httpStatusCode;
  const where = `${ctx.op} in bucket ${ctx.bucket}`;
  const cause = sanitize(err, name, code, status, e.$metadata?.requestId);

  if (signal?.aborted || name === 'AbortError' || code === 'ABORT_ERR') {
    // Not a verdict on the job: the caller stopped it (shutdown, a deadline).
    return new TransientError('STORAGE_ABORTED', `${where} was aborted`, cause);
  }
  if (name === 'NoSuchBucket') return new PermanentError('BUCKET_NOT_FOUND', `${where}: the bucket does not exist`, cause);
  if (NOT_FOUND_OBJECT.has(name) || status === 404) {
    return new PermanentError('OBJECT_NOT_FOUND', `${where}: the object does not exist`, cause);
  }
  if (TRANSIENT_NAMES.has(name) || (status !== undefined && (status >= 500 || status === 429 || status === 408))) {
    return new TransientError('STORAGE_UNAVAILABLE', `${where} failed: ${name}${status ? ` (HTTP ${status})` : ''}`, cause);
  }
  if (DENIED.has(name) || status === 403 || status === 401) {
    return new PermanentError('STORAGE_ACCESS_DENIED', `${where}: access denied (${name})`, cause);
  }
  if (status !== undefined && status >= 400) {
    return new PermanentError('STORAGE_REJECTED', `${where}: the request was refused: ${name} (HTTP ${status})`, cause);
  }
  if (status === undefined && code !== undefined && !NETWORK_ERROR_CODES.has(code) && isLocalFileError(err)) {
    // The work file, not the store: a full disk, a missing source file. Retried, bounded.
    return new TransientError('LOCAL_IO', `${where}: local file error ${code}`, cause);
  }
  // No HTTP answer at all: refused, reset, timed out, DNS. The SDK has already retried.
  return new TransientError('STORAGE_UNAVAILABLE', `${where} failed: ${code ?? name}`, cause);
}

function isLocalFileError(err: unknown): boolean {
  const e = err as { syscall?: unknown; path?: unknown } | null;
  return typeof e?.syscall === 'string' && typeof e.path === 'string';
}

function sanitize(err: unknown, name: string, code: string | undefined, status: number | undefined, requestId: string | undefined): Error {
  const message = err instanceof Error ? err.message : String(err);
  // Server messages are short and fixed, but some stores echo request details: cap them.
  const out = new Error(message.length > 300 ? `${message.slice(0, 300)}…` : message);
  out.name = name;
  return Object.assign(out, {
    ...(code !== undefined && { code }),
    ...(status !== undefined && { status }),
    ...(requestId !== undefined && { requestId }),
  });
}
