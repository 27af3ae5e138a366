import { setTimeout as sleep } from 'node:timers/promises';
import { VigilError } from '../../shared/errors.ts';
import {
  FacebookAbortedError,
  FacebookAnswerTooLargeError,
  FacebookBadPermalinkError,
  FacebookRedirectedError,
  FacebookOffsetError,
  FacebookSessionExpiredError,
  FacebookUnavailableError,
  classifyGraphFailure,
  networkFailure,
  type GraphPhase,
} from './facebook-errors.ts';
import { MultipartBody, requestBody, transferForm, type ChunkSource } from './facebook-transfer-body.ts';

/**
 * Publishes a video on a Facebook Page with the Graph API's resumable upload: `start`
 * (the file size) gives a session and the first range to send, each `transfer` sends the
 * range asked for and gets the next, `finish` publishes with the title and description,
 * then the video's permalink is read. The session is handed to the caller after every
 * step so an upload interrupted by a crash, a rate limit or a shutdown resumes where the
 * API says it stopped. One chunk is in memory at a time.
 *
 * The token travels in the Authorization header only, never in a URL, and no error
 * this client throws holds it (see facebook-errors.ts).
 */

export interface FacebookOptions {
  /** `FACEBOOK_GRAPH_URL`: the API's origin; tests and proxies point it elsewhere. @default 'https://graph-video.facebook.com' */
  baseUrl: string;
  /** `FACEBOOK_API_VERSION`. @default 'v24.0' */
  apiVersion: string;
  /** `FACEBOOK_PAGE_ID`: the Page the videos are published on. */
  pageId: string;
  /** `FACEBOOK_PAGE_TOKEN` (secret): a Page access token with pages_manage_posts. */
  accessToken: string;
  /** Longest time for one request, a chunk's included. @default 120_000 */
  requestTimeoutMs?: number;
  /** A transfer that fails by the network is retried this many times at the offset the API gives. @default 5 */
  chunkRetries?: number;
  /** Wait before the first retry of a chunk, doubled each time (at most 30 s). @default 1000 */
  retryDelayMs?: number;
}

export const FACEBOOK_DEFAULTS = {
  baseUrl: 'https://graph-video.facebook.com',
  apiVersion: 'v24.0',
  requestTimeoutMs: 120_000,
  chunkRetries: 5,
  retryDelayMs: 1000,
} as const;

export interface FacebookSession {
  videoId: string;
  sessionId: string;
  /** The next byte the API expects. */
  startOffset: number;
  /** Where the API asked the next chunk to end; without it a resumed upload sends a default-sized chunk and the API corrects it. */
  endOffset?: number;
}

export interface FacebookUploadRequest {
  source: ChunkSource;
  title: string;
  description: string;
  /** The session an earlier attempt saved: the upload resumes there instead of starting again. */
  resume?: FacebookSession;
  /** After start and after every chunk, with the offsets the API returned: the uploader saves it. */
  onSession?(session: FacebookSession): Promise<void>;
  signal?: AbortSignal;
}

export interface FacebookUploadResult {
  videoId: string;
  /** Absolute: the API's permalink_url is relative to https://www.facebook.com. */
  url: string;
  /** Set when the permalink could not be read (the video is published all the same): `url` is then the watch link. */
  permalinkError?: VigilError;
}

const FACEBOOK_WEB = 'https://www.facebook.com';
/** The hosts a mailed permalink may name (over https, on the default port). */
const FACEBOOK_WEB_HOSTS: ReadonlySet<string> = new Set(['www.facebook.com', 'facebook.com']);
/**
 * Graph answers are small JSON objects (ids, offsets, an error): a few hundred bytes.
 * Anything past this is not an answer, and is not read on (a 600 MB one once took the
 * process to 1.4 GB).
 */
export const MAX_ANSWER_BYTES = 256 * 1024;
/** The chunk a resumed session sends when it has no saved end offset (Facebook's usual size). */
const RESUME_CHUNK_BYTES = 4 * 1024 * 1024;
/** An answer asking for more than this in one chunk is not believed (memory holds one chunk). */
export const MAX_CHUNK_BYTES = 256 * 1024 * 1024;
const MAX_RETRY_DELAY_MS = 30_000;

interface Range {
  startOffset: number;
  endOffset: number;
}
type Session = FacebookSession & Range;

export class FacebookClient {
  readonly #token: string;
  readonly #fetch: typeof fetch;
  readonly #videosUrl: string;
  readonly #origin: string;
  readonly #version: string;
  readonly #timeoutMs: number;
  readonly #chunkRetries: number;
  readonly #retryDelayMs: number;

  constructor(opts: FacebookOptions, fetchImpl: typeof fetch = fetch) {
    this.#token = opts.accessToken;
    this.#fetch = fetchImpl;
    this.#origin = opts.baseUrl.replace(/\/+$/, '');
    this.#version = checkSegment(opts.apiVersion, 'apiVersion');
    this.#videosUrl = `${this.#origin}/${this.#version}/${checkSegment(opts.pageId, 'pageId')}/videos`;
    this.#timeoutMs = opts.requestTimeoutMs ?? FACEBOOK_DEFAULTS.requestTimeoutMs;
    this.#chunkRetries = opts.chunkRetries ?? FACEBOOK_DEFAULTS.chunkRetries;
    this.#retryDelayMs = opts.retryDelayMs ?? FACEBOOK_DEFAULTS.retryDelayMs;
  }

  async upload(req: FacebookUploadRequest): Promise<FacebookUploadResult> {
    const size = req.source.size;
    let session: Session;
    if (req.resume) {
      const { startOffset, endOffset } = req.resume;
      session = { ...req.resume, endOffset: endOffset ?? Math.min(size, startOffset + RESUME_CHUNK_BYTES) };
      try {
        await this.transferAndFinish(session, req);
      } catch (err) {
        // Facebook forgets sessions after a while; the saved one counts for nothing then.
        if (!(err instanceof FacebookSessionExpiredError)) throw err;
        session = await this.begin(req);
        await this.transferAndFinish(session, req);
      }
    } else {
      session = await this.begin(req);
      await this.transferAndFinish(session, req);
    }
    return this.published(session.videoId, req.signal);
  }

  /**
   * The video is on the Page once finish succeeded, so a failed permalink read must not
   * fail the upload (a retry would publish again): the watch link names it as well.
   */
  private async published(videoId: string, signal: AbortSignal | undefined): Promise<FacebookUploadResult> {
    try {
      return { videoId, url: await this.permalink(videoId, signal) };
    } catch (err) {
      return { videoId, url: `${FACEBOOK_WEB}/watch/?v=${encodeURIComponent(videoId)}`, permalinkError: err as VigilError };
    }
  }

  private async begin(req: FacebookUploadRequest): Promise<Session> {
    const form = new FormData();
    form.append('upload_phase', 'start');
    form.append('file_size', String(req.source.size));
    const body = await this.call('start', this.#videosUrl, form, req.signal);
    const videoId = idField(body, 'video_id');
    const sessionId = idField(body, 'upload_session_id');
    if (videoId === undefined || sessionId === undefined) throw garbled('start', 'no video_id or upload_session_id');
    const session: Session = { videoId, sessionId, ...rangeOf('start', body, req.source.size) };
    await req.onSession?.(saved(session));
    return session;
  }

  private async transferAndFinish(session: Session, req: FacebookUploadRequest): Promise<void> {
    await this.transferAll(session, req);
    await this.finish(session, req);
  }

  /** Sends the ranges the API asks for until it has every byte; `session` moves along. */
  private async transferAll(session: Session, req: FacebookUploadRequest): Promise<void> {
    const size = req.source.size;
    let failures = 0;
    let corrections = 0;
    while (session.startOffset < size) {
      if (req.signal?.aborted) throw new FacebookAbortedError('transfer');
      let chunk: Buffer;
      try {
        chunk = await req.source.read(session.startOffset, session.endOffset, req.signal);
      } catch (err) {
        if (req.signal?.aborted) throw new FacebookAbortedError('transfer');
        throw err;
      }
      if (chunk.length !== session.endOffset - session.startOffset) throw new TypeError(`the chunk source gave ${chunk.length} bytes for ${session.startOffset}-${session.endOffset}`);
      let next: Range;
      try {
        next = await this.transfer(session, chunk, size, req.signal);
      } catch (err) {
        if (err instanceof FacebookOffsetError) {
          // The API has more (a chunk whose answer was lost) or less than we thought.
          if (++corrections > this.#chunkRetries) throw new FacebookUnavailableError(`transfer: the API kept asking for other offsets (last ${err.startOffset}-${err.endOffset})`, { graph: err.graph });
          Object.assign(session, checkRange('transfer', err, size));
          await req.onSession?.(saved(session));
          continue;
        }
        if (!(err instanceof FacebookUnavailableError && err.network)) throw err;
        if (++failures > this.#chunkRetries) {
          throw new FacebookUnavailableError(`transfer at ${session.startOffset}: ${failures} attempts failed, the last: ${err.message}`, { network: true, cause: err.cause });
        }
        await this.pause(failures, req.signal);
        continue;
      }
      failures = 0;
      corrections = next.startOffset > session.startOffset ? 0 : corrections + 1;
      if (corrections > this.#chunkRetries) throw garbled('transfer', `no progress past ${session.startOffset}`);
      Object.assign(session, next);
      await req.onSession?.(saved(session));
    }
  }

  private async transfer(session: Session, chunk: Buffer, size: number, signal: AbortSignal | undefined): Promise<Range> {
    const form = transferForm({ upload_phase: 'transfer', upload_session_id: session.sessionId, start_offset: String(session.startOffset) }, chunk);
    const body = await this.call('transfer', this.#videosUrl, form, signal);
    return rangeOf('transfer', body, size);
  }

  private async finish(session: Session, req: FacebookUploadRequest): Promise<void> {
    const form = new FormData();
    form.append('upload_phase', 'finish');
    form.append('upload_session_id', session.sessionId);
    form.append('title', req.title);
    form.append('description', req.description);
    const body = await this.call('finish', this.#videosUrl, form, req.signal);
    if ((body as { success?: unknown }).success !== true) throw garbled('finish', 'no "success": true');
  }

  private async permalink(videoId: string, signal: AbortSignal | undefined): Promise<string> {
    const url = `${this.#origin}/${this.#version}/${encodeURIComponent(videoId)}?fields=permalink_url`;
    const body = await this.call('permalink', url, undefined, signal);
    const link = (body as { permalink_url?: unknown }).permalink_url;
    if (typeof link !== 'string' || link === '') throw garbled('permalink', 'no permalink_url');
    return facebookWebLink(link);
  }

  /** One request: the JSON answer of a success, or the classified error. */
  private async call(phase: GraphPhase, url: string, form: FormData | MultipartBody | undefined, signal: AbortSignal | undefined): Promise<unknown> {
    if (signal?.aborted) throw new FacebookAbortedError(phase);
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    let res: Response;
    let text: string;
    try {
      res = await this.#fetch(url, {
        method: form ? 'POST' : 'GET',
        headers: { authorization: `OAuth ${this.#token}`, accept: 'application/json', ...(form instanceof MultipartBody && { 'content-type': form.contentType, 'content-length': String(form.length) }) },
        redirect: 'manual',
        ...requestBody(form),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
      if (res.status >= 300 && res.status < 400) {
        await res.body?.cancel().catch(() => undefined);
        throw new FacebookRedirectedError(phase, `HTTP ${res.status} to ${originOf(res.headers.get('location'), url)}`);
      }
      text = await readCapped(res, phase, MAX_ANSWER_BYTES);
    } catch (err) {
      if (signal?.aborted) throw new FacebookAbortedError(phase);
      if (err instanceof VigilError) throw err;
      if (isRedirectRefused(err)) throw new FacebookRedirectedError(phase, 'the answer was a redirect');
      throw networkFailure(phase, err, this.#token);
    }
    if (!res.ok) throw classifyGraphFailure({ phase, httpStatus: res.status, body: text, headers: res.headers, accessToken: this.#token });
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw garbled(phase, `HTTP ${res.status} with a body that is not JSON`);
    }
    if (body === null || typeof body !== 'object') throw garbled(phase, 'the answer is not a JSON object');
    if ('error' in body) throw classifyGraphFailure({ phase, httpStatus: res.status, body: text, headers: res.headers, accessToken: this.#token });
    return body;
  }

  private async pause(failures: number, signal: AbortSignal | undefined): Promise<void> {
    const ms = Math.min(MAX_RETRY_DELAY_MS, this.#retryDelayMs * 2 ** (failures - 1));
    try {
      await sleep(ms, undefined, { signal });
    } catch {
      throw new FacebookAbortedError('transfer');
    }
  }
}

/**
 * The body as text, read no further than `max` bytes: a declared length past it is
 * refused before reading, an undeclared one when the count passes it (the rest is
 * cancelled, never buffered).
 */
async function readCapped(res: Response, phase: GraphPhase, max: number): Promise<string> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > max) {
    await res.body?.cancel().catch(() => undefined);
    throw new FacebookAnswerTooLargeError(phase, `HTTP ${res.status}: the answer declares ${declared} bytes; the limit is ${max}`);
  }
  if (res.body === null) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.byteLength;
    if (bytes > max) {
      await reader.cancel().catch(() => undefined);
      throw new FacebookAnswerTooLargeError(phase, `HTTP ${res.status}: the answer runs past ${max} bytes, the limit; not read further`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, bytes).toString('utf8');
}

/**
 * The permalink as a link to mail: relative ones are on www.facebook.com, absolute ones
 * must be https on Facebook's own web host. `//evil.example.net/…` is absolute (another
 * host), and so refused.
 */
function facebookWebLink(link: string): string {
  let absolute: URL;
  try {
    absolute = new URL(link, FACEBOOK_WEB);
  } catch {
    throw new FacebookBadPermalinkError('permalink_url is not a URL');
  }
  const ok = absolute.protocol === 'https:' && FACEBOOK_WEB_HOSTS.has(absolute.hostname) && absolute.port === '' && absolute.username === '' && absolute.password === '';
  if (!ok) throw new FacebookBadPermalinkError(`permalink_url is not an https link on ${[...FACEBOOK_WEB_HOSTS].join(' or ')}`);
  return absolute.href;
}

/** Where a redirect pointed, as an origin only (the path and query are not repeated). */
function originOf(location: string | null, base: string): string {
  if (location === null) return 'no Location';
  try {
    return new URL(location, base).origin;
  } catch {
    return 'an invalid Location';
  }
}

/** fetch's rejection of a redirect under `redirect: 'error'` (the transfer's mode). */
function isRedirectRefused(err: unknown): boolean {
  const cause = (err as { cause?: unknown } | null)?.cause;
  return cause instanceof Error && cause.message === 'unexpected redirect';
}

function checkSegment(value: string, name: string): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(value)) throw new TypeError(`Facebook ${name} must be letters, digits, . _ or -`);
  return value;
}

function saved(s: Session): FacebookSession {
  return { videoId: s.videoId, sessionId: s.sessionId, startOffset: s.startOffset, endOffset: s.endOffset };
}

function garbled(phase: GraphPhase, what: string): VigilError {
  return new FacebookUnavailableError(`Facebook ${phase}: unexpected answer (${what})`);
}

/** The API sends ids and offsets as strings ("1564747013773438", "0"), sometimes as numbers. */
function idField(body: unknown, key: string): string | undefined {
  const v = (body as Record<string, unknown>)[key];
  if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
  return typeof v === 'string' && /^[A-Za-z0-9_:.-]{1,128}$/.test(v) ? v : undefined;
}

function rangeOf(phase: GraphPhase, body: unknown, size: number): Range {
  const b = body as { start_offset?: unknown; end_offset?: unknown };
  return checkRange(phase, { startOffset: Number(b.start_offset), endOffset: Number(b.end_offset) }, size);
}

/** Offsets the API gave, believed only when they lie inside the file and ask for a sane chunk. */
function checkRange(phase: GraphPhase, r: Range, size: number): Range {
  const { startOffset: start, endOffset: end } = r;
  const ok = Number.isSafeInteger(start) && Number.isSafeInteger(end) && start >= 0 && end >= start && end <= size && end - start <= MAX_CHUNK_BYTES;
  if (!ok) throw garbled(phase, `offsets ${String(start)}-${String(end)} for a file of ${size} bytes`);
  if (start === end && start < size) throw garbled(phase, `an empty chunk at ${start}`);
  return { startOffset: start, endOffset: end };
}
