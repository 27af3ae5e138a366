import { NETWORK_ERROR_CODES, PermanentError, TransientError, type VigilError } from '../../shared/errors.ts';
import { retryAfterFromHeaders, type HeaderSource } from './facebook-usage.ts';

/**
 * Graph API failures sorted into what the uploader can do about them: postpone (rate
 * limits), give up (token, permissions, a refused video), start a new session, or try
 * again. Everything here is pure. No error built here holds the access token: messages
 * from the API and from the network are scrubbed, and a network failure's own error (its
 * cause chain can hold the URL and headers) is never kept, only its name and code.
 */

/** The error object of a Graph API answer: `{"error": {…}}`. */
export interface GraphErrorBody {
  message?: string;
  type?: string;
  code?: number;
  error_subcode?: number;
  fbtrace_id?: string;
  is_transient?: boolean;
  error_data?: unknown;
}

/** Where in the upload the call was made; named in messages and used to read session errors. */
export type GraphPhase = 'start' | 'transfer' | 'finish' | 'permalink';

/** What identifies a Graph answer in a log line (never the token or the request). */
interface GraphDetail {
  httpStatus: number | undefined;
  graphCode: number | undefined;
  graphSubcode: number | undefined;
  fbtraceId: string | undefined;
}

/** Throttled: postpone the upload. `retryAfterMs` undefined means "use the configured delay". */
export class FacebookRateLimitError extends TransientError {
  readonly retryAfterMs: number | undefined;
  readonly graph: GraphDetail;
  constructor(message: string, retryAfterMs: number | undefined, graph: GraphDetail) {
    super('FACEBOOK_RATE_LIMITED', message);
    this.name = 'FacebookRateLimitError';
    this.retryAfterMs = retryAfterMs;
    this.graph = graph;
  }
}

/** The token is expired, revoked or invalid, or lacks a permission: retrying cannot help. */
export class FacebookAuthError extends PermanentError {
  readonly graph: GraphDetail;
  constructor(message: string, graph: GraphDetail) {
    super('FACEBOOK_AUTH', message);
    this.name = 'FacebookAuthError';
    this.graph = graph;
  }
}

/** The API refused the request for good (an invalid parameter, a file too large or too small). */
export class FacebookRejectedError extends PermanentError {
  readonly graph: GraphDetail;
  constructor(message: string, graph: GraphDetail) {
    super('FACEBOOK_REJECTED', message);
    this.name = 'FacebookRejectedError';
    this.graph = graph;
  }
}

/** The saved upload session is unknown or timed out: the upload starts again with a new one. */
export class FacebookSessionExpiredError extends TransientError {
  readonly graph: GraphDetail;
  constructor(message: string, graph: GraphDetail) {
    super('FACEBOOK_SESSION_EXPIRED', message);
    this.name = 'FacebookSessionExpiredError';
    this.graph = graph;
  }
}

/** 5xx, a temporary API error, the network, a garbled answer: try again later. */
export class FacebookUnavailableError extends TransientError {
  readonly graph: GraphDetail | undefined;
  /** Set when the request itself did not complete (connection reset, timeout): the chunk may be retried at once. */
  readonly network: boolean;
  constructor(message: string, opts: { graph?: GraphDetail; network?: boolean; cause?: unknown } = {}) {
    super('FACEBOOK_UNAVAILABLE', message, opts.cause);
    this.name = 'FacebookUnavailableError';
    this.graph = opts.graph;
    this.network = opts.network ?? false;
  }
}

/**
 * A chunk sent at an offset the API did not expect (subcode 1363037); the answer's
 * `error_data` says where to continue. The client handles it and never lets it out.
 */
export class FacebookOffsetError extends TransientError {
  readonly startOffset: number;
  readonly endOffset: number;
  readonly graph: GraphDetail;

  constructor(startOffset: number, endOffset: number, graph: GraphDetail) {
    super('FACEBOOK_OFFSET_MISMATCH', `transfer: the API expects the chunk ${startOffset}-${endOffset}`);
    this.startOffset = startOffset;
    this.endOffset = endOffset;
    this.graph = graph;
    this.name = 'FacebookOffsetError';
  }
}

/**
 * The answer was larger than any the Graph API gives (a few KB): a broken proxy or a
 * hostile endpoint. Reading stopped at the cap, so memory stays bounded; like a garbled
 * answer it is retried later, then dead-lettered.
 */
export class FacebookAnswerTooLargeError extends TransientError {
  constructor(phase: GraphPhase, detail: string) {
    super('FACEBOOK_ANSWER_TOO_LARGE', `Facebook ${phase}: ${detail}`);
    this.name = 'FacebookAnswerTooLargeError';
  }
}

/**
 * The API answered with a redirect. The Graph API never redirects, and following one
 * would send the request (a chunk, the title) to wherever the Location says: never followed.
 */
export class FacebookRedirectedError extends TransientError {
  constructor(phase: GraphPhase, detail: string) {
    super('FACEBOOK_REDIRECTED', `Facebook ${phase}: ${detail}; redirects are not followed (check FACEBOOK_GRAPH_URL)`);
    this.name = 'FacebookRedirectedError';
  }
}

/** The permalink_url is not an https link on Facebook's web host: never mailed. */
export class FacebookBadPermalinkError extends TransientError {
  constructor(detail: string) {
    super('FACEBOOK_BAD_PERMALINK', `Facebook permalink: ${detail}`);
    this.name = 'FacebookBadPermalinkError';
  }
}

/** The caller's signal stopped the upload (shutdown, a deadline): not a verdict on the video. */
export class FacebookAbortedError extends TransientError {
  constructor(phase: GraphPhase) {
    super('FACEBOOK_ABORTED', `${phase}: the upload was aborted`);
    this.name = 'FacebookAbortedError';
  }
}

/** Throttling codes: app (4), user (17), page (32), a call's own limit (613), Pages business use case (80001). */
export const RATE_LIMIT_CODES: ReadonlySet<number> = new Set([4, 17, 32, 613, 80001]);
/** 190 invalid or expired token, 102 session key, 10 and 200-299 permission, 2500 no active token. */
const AUTH_CODES: ReadonlySet<number> = new Set([102, 190, 10, 2500]);
/** Token subcodes: 458 app not installed, 459 checkpoint, 460 password changed, 463 expired, 464 unconfirmed, 467 invalid, 492 session. */
const AUTH_SUBCODES: ReadonlySet<number> = new Set([458, 459, 460, 463, 464, 467, 492]);
/** Codes the API marks as temporary: 1 unknown, 2 service. */
const TEMPORARY_CODES: ReadonlySet<number> = new Set([1, 2]);
/** The transfer went wrong on the way (1363033 partial file, 1363019 "please try again"): send the chunk again. */
export const CHUNK_RETRY_SUBCODES: ReadonlySet<number> = new Set([1363033, 1363019]);
const OFFSET_SUBCODE = 1363037;
/** "Video upload timeout": the session is gone. */
const SESSION_TIMEOUT_SUBCODE = 1363030;

/** Parses an answer's error object; undefined when the body is not a Graph error (an HTML page, empty). */
export function parseGraphError(text: string | undefined): GraphErrorBody | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  const error = (parsed as { error?: unknown } | null)?.error;
  if (error === null || typeof error !== 'object') return undefined;
  const e = error as Record<string, unknown>;
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : undefined);
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  return {
    message: str(e.message),
    type: str(e.type),
    code: num(e.code),
    error_subcode: num(e.error_subcode),
    fbtrace_id: str(e.fbtrace_id),
    is_transient: e.is_transient === true || e.is_transient === 1,
    error_data: e.error_data,
  };
}

/** The offsets in a 1363037 answer's `error_data` (an object, or older answers' JSON text). */
export function offsetsFromErrorData(data: unknown): { startOffset: number; endOffset: number } | undefined {
  let d = data;
  if (typeof d === 'string') {
    try {
      d = JSON.parse(d);
    } catch {
      return undefined;
    }
  }
  const o = d as { start_offset?: unknown; end_offset?: unknown } | null;
  const start = Number(o?.start_offset);
  const end = Number(o?.end_offset);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) return undefined;
  return { startOffset: start, endOffset: end };
}

export interface GraphFailure {
  phase: GraphPhase;
  httpStatus: number;
  /** The answer's body as text; undefined when there was none. */
  body: string | undefined;
  headers: HeaderSource;
  /** Scrubbed from every message. */
  accessToken: string;
  now?: number;
}

/**
 * The error for a Graph answer that is not a success. An HTTP 400 without a readable
 * error body counts as rate limited: that is what the seed saw when Facebook throttled it.
 */
export function classifyGraphFailure(f: GraphFailure): VigilError {
  const e = parseGraphError(f.body);
  const graph: GraphDetail = { httpStatus: f.httpStatus, graphCode: e?.code, graphSubcode: e?.error_subcode, fbtraceId: traceId(e?.fbtrace_id) };
  const what = describe(f, e);
  const code = e?.code;
  const subcode = e?.error_subcode;

  if (e === undefined) {
    if (f.httpStatus === 400 || f.httpStatus === 429) {
      return new FacebookRateLimitError(`${what}: taken as a rate limit`, retryAfterFromHeaders(f.headers, f.now), graph);
    }
    if (f.httpStatus === 401 || f.httpStatus === 403) return new FacebookAuthError(`${what}: the token was refused`, graph);
    if (f.httpStatus >= 500 || f.httpStatus === 408) return new FacebookUnavailableError(what, { graph });
    return new FacebookRejectedError(what, graph);
  }
  if ((code !== undefined && RATE_LIMIT_CODES.has(code)) || f.httpStatus === 429) {
    return new FacebookRateLimitError(what, retryAfterFromHeaders(f.headers, f.now), graph);
  }
  if ((code !== undefined && (AUTH_CODES.has(code) || (code >= 200 && code <= 299))) || (subcode !== undefined && AUTH_SUBCODES.has(subcode))) {
    return new FacebookAuthError(what, graph);
  }
  if (subcode === OFFSET_SUBCODE) {
    const offsets = offsetsFromErrorData(e.error_data);
    if (offsets) return new FacebookOffsetError(offsets.startOffset, offsets.endOffset, graph);
    return new FacebookUnavailableError(`${what}: no offsets to continue from`, { graph });
  }
  if (f.phase !== 'start' && (subcode === SESSION_TIMEOUT_SUBCODE || (code === 100 && subcode === 33))) {
    return new FacebookSessionExpiredError(what, graph);
  }
  if (subcode !== undefined && CHUNK_RETRY_SUBCODES.has(subcode)) return new FacebookUnavailableError(what, { graph, network: true });
  if ((code !== undefined && TEMPORARY_CODES.has(code)) || e.is_transient === true || f.httpStatus >= 500) {
    return new FacebookUnavailableError(what, { graph });
  }
  return new FacebookRejectedError(what, graph);
}

function describe(f: GraphFailure, e: GraphErrorBody | undefined): string {
  const parts = [`HTTP ${f.httpStatus}`];
  if (e?.code !== undefined) parts.push(`code ${e.code}${e.error_subcode !== undefined ? `/${e.error_subcode}` : ''}`);
  if (e?.type) parts.push(scrubSecrets(e.type, f.accessToken).slice(0, 64));
  const trace = traceId(e?.fbtrace_id);
  if (trace) parts.push(`fbtrace_id ${trace}`);
  const message = e?.message ? `: ${scrubSecrets(e.message, f.accessToken).slice(0, 300)}` : e === undefined ? ': no Graph error in the answer' : '';
  return `Facebook ${f.phase} failed (${parts.join(', ')})${message}`;
}

/**
 * The network failure of a request (fetch's TypeError and its cause, a timeout), as a
 * transient error whose cause is a plain Error with the name, code and scrubbed message only.
 */
export function networkFailure(phase: GraphPhase, err: unknown, accessToken: string): FacebookUnavailableError {
  const inner = (err as { cause?: unknown } | null)?.cause;
  const name = errorName(err);
  const code = errorCodeOf(inner) ?? errorCodeOf(err);
  const timeout = name === 'TimeoutError' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT';
  const reason = timeout ? 'timed out' : code && NETWORK_ERROR_CODES.has(code) ? `lost the connection (${code})` : `failed (${name}${code ? ` ${code}` : ''})`;
  const cause = new Error(scrubSecrets(`${name}${code ? ` ${code}` : ''}: ${messageOf(inner) ?? messageOf(err) ?? ''}`, accessToken).slice(0, 300));
  cause.name = name;
  return new FacebookUnavailableError(`Facebook ${phase} ${reason}`, { network: true, cause });
}

/** Facebook's trace ids are short base64-like strings; anything else is not repeated. */
function traceId(v: string | undefined): string | undefined {
  return v !== undefined && /^[A-Za-z0-9+/=_-]{1,64}$/.test(v) ? v : undefined;
}

function errorName(err: unknown): string {
  const n = (err as { name?: unknown } | null)?.name;
  return typeof n === 'string' && /^[\w.]{1,64}$/.test(n) ? n : 'Error';
}

function errorCodeOf(err: unknown): string | undefined {
  const c = (err as { code?: unknown } | null)?.code;
  return typeof c === 'string' && /^[A-Z0-9_]{1,64}$/.test(c) ? c : undefined;
}

function messageOf(err: unknown): string | undefined {
  const m = (err as { message?: unknown } | null)?.message;
  return typeof m === 'string' && m !== '' ? m : undefined;
}

const REDACTED = '[redacted]';

/**
 * The text without the token: the token itself and its URL-encoded form, and anything
 * shaped like a credential (`access_token=…`, `OAuth …`, `Bearer …`, a Facebook token
 * `EAA…`) in case an answer echoes another one.
 */
export function scrubSecrets(text: string, accessToken: string): string {
  let out = text;
  if (accessToken.length >= 4) {
    for (const form of new Set([accessToken, encodeURIComponent(accessToken)])) out = out.split(form).join(REDACTED);
  }
  return out
    .replace(/(access_token=)[^&\s"']+/gi, `$1${REDACTED}`)
    .replace(/\b(OAuth|Bearer)\s+(?!\[redacted\])[^\s"',]+/g, `$1 ${REDACTED}`)
    .replace(/\bEAA[A-Za-z0-9]{16,}/g, REDACTED);
}
