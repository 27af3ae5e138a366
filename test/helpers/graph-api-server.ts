import { once } from 'node:events';
import { createHash, type Hash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FacebookOptions } from '../../services/uploader/facebook-client.ts';
import { MultipartParser, fieldSink, multipartBoundary, type PartSink } from './multipart-parser.ts';

/**
 * A local stand-in for the Graph API's resumable Page video upload, answering as Facebook
 * does (ids and offsets as strings, errors as `{"error": {…}}` with HTTP 400):
 *
 * - `POST /{version}/{page-id}/videos` with `upload_phase` `start` (file_size), `transfer`
 *   (upload_session_id, start_offset, the `video_file_chunk` part) and `finish`
 *   (upload_session_id, title, description);
 * - `GET /{version}/{video-id}?fields=permalink_url`.
 *
 * Chunks stream through: each session keeps a running SHA-256 and a byte count, never the
 * bytes, so a 500 MB upload costs no memory. A chunk counts only when it arrived whole at
 * the offset the session expects; one cut short is dropped, as Facebook drops it. The token
 * is checked on every call (Authorization `OAuth`/`Bearer`, or an `access_token` field)
 * and never recorded. Faults are injected for the next matching call.
 */

export type GraphCallPhase = 'start' | 'transfer' | 'finish' | 'permalink' | 'unknown';

export interface GraphRequestRecord {
  method: string;
  phase: GraphCallPhase;
  sessionId?: string;
  startOffset?: number;
  /** Bytes of `video_file_chunk` that arrived (all of them, or up to a cut). */
  chunkBytes?: number;
  tokenPresent: boolean;
  /** An `access_token` in the query string: a client must never do that (URLs get logged). */
  tokenInUrl: boolean;
  /** The HTTP status answered; undefined when the connection was cut instead. */
  status?: number;
  /** `ok`, `error <code>/<subcode>`, `bare-400`, `cut` or `stalled`. */
  outcome: string;
}

export interface GraphVideo {
  id: string;
  size: number;
  /** Bytes received so far, in order. */
  received: number;
  /** Hex SHA-256 of the received bytes; set when the upload finished. */
  sha256?: string;
  title?: string;
  description?: string;
  published: boolean;
}

export interface RateLimitFault {
  /** The Graph error code: 4, 17, 32, 613, 80001… */
  code: number;
  /** A usage header naming the wait; `header` defaults to X-Business-Use-Case-Usage. */
  usageHeader?: { minutes: number; header?: 'x-business-use-case-usage' | 'x-page-usage' | 'x-app-usage' };
  /** @default 400 */
  httpStatus?: number;
  /** Only a call of this phase is answered so; @default the next call */
  phase?: GraphCallPhase;
}

export interface CutFault {
  /** The connection is destroyed once this many chunk bytes have arrived. */
  afterBytes: number;
  /** Take the whole chunk first, then cut before answering: the answer is lost, the offset moved. */
  afterCommit?: boolean;
  /** Instead of cutting, stop reading and never answer (the client's timeout ends it); nothing of the chunk counts. */
  stall?: boolean;
}

export interface GraphApiServer {
  /** `http://127.0.0.1:<port>` */
  base: string;
  pageId: string;
  apiVersion: string;
  token: string;
  chunkSize: number;
  requests: GraphRequestRecord[];
  /** Options for a FacebookClient that talks to this server. */
  clientOptions(extra?: Partial<FacebookOptions>): FacebookOptions;
  video(id: string): GraphVideo | undefined;
  /** Every later call answers 190/463 "Session has expired". */
  expireToken(): void;
  /** Forgets every upload session: a transfer or finish on one answers 6001/1363030 (upload timed out). */
  expireSessions(): void;
  rateLimitNext(fault: RateLimitFault): void;
  cutNextTransfer(fault: CutFault): void;
  /** The next call answers HTTP 400 without a Graph error body, as the seed saw. */
  bare400Next(opts?: { phase?: GraphCallPhase }): void;
  /** The next call (of `phase`) is answered by `fault.respond` instead: hostile answers, redirects, endless bodies. */
  answerNext(fault: RawFault): void;
  close(): Promise<void>;
}

export interface GraphApiServerOptions {
  /** @default 'test-page-token-5bd2' */
  token?: string;
  /** @default '104857600000001' */
  pageId?: string;
  /** @default 'v24.0' */
  apiVersion?: string;
  /** The range each transfer is asked for. @default 4 MiB, like Facebook's */
  chunkSize?: number;
}

export interface RawFault {
  /** @default the next call */
  phase?: GraphCallPhase;
  /** Writes the whole answer; the token was checked first. */
  respond(res: ServerResponse): void | Promise<void>;
}

interface UploadSession {
  id: string;
  video: GraphVideo;
  hash: Hash;
}

interface GraphError {
  message: string;
  type: string;
  code: number;
  error_subcode?: number;
  error_data?: unknown;
  is_transient?: boolean;
}

interface Reply {
  status: number;
  body: string;
  headers?: Record<string, string>;
  raw?: RawFault['respond'];
}

const MAX_FILE_SIZE = 10 * 1024 ** 3;
const MIN_FILE_SIZE = 1024;

export async function startGraphApiServer(opts: GraphApiServerOptions = {}): Promise<GraphApiServer> {
  const token = opts.token ?? 'test-page-token-5bd2';
  const pageId = opts.pageId ?? '104857600000001';
  const apiVersion = opts.apiVersion ?? 'v24.0';
  const chunkSize = opts.chunkSize ?? 4 * 1024 * 1024;
  const requests: GraphRequestRecord[] = [];
  const videos = new Map<string, GraphVideo>();
  let sessions = new Map<string, UploadSession>();
  let tokenExpired = false;
  let nextId = 1564747010440105n;
  const rateLimits: RateLimitFault[] = [];
  const bare400s: { phase?: GraphCallPhase }[] = [];
  const cuts: CutFault[] = [];
  const raws: RawFault[] = [];
  let trace = 0;

  const newId = () => String(nextId++);
  const ok = (body: unknown): Reply => ({ status: 200, body: JSON.stringify(body) });
  const fail = (e: GraphError, status = 400, headers?: Record<string, string>): Reply => ({
    status,
    headers,
    body: JSON.stringify({ error: { is_transient: false, ...e, fbtrace_id: `Atrace${++trace}` } }),
  });
  const offsets = (v: GraphVideo) => ({ start_offset: String(v.received), end_offset: String(Math.min(v.received + chunkSize, v.size)) });
  const takeFault = <T extends { phase?: GraphCallPhase }>(list: T[], phase: GraphCallPhase): T | undefined => {
    const i = list.findIndex((f) => f.phase === undefined || f.phase === phase);
    return i === -1 ? undefined : list.splice(i, 1)[0];
  };

  /** Token and injected faults: the answer that wins over the call's own, if any. */
  function preempt(phase: GraphCallPhase, presented: string | undefined): Reply | undefined {
    if (presented === undefined) return fail({ message: 'An active access token must be used to query information about the current user.', type: 'OAuthException', code: 2500 });
    if (tokenExpired) {
      return fail({ message: 'Error validating access token: Session has expired on Tuesday, 01-Dec-26 04:00:00 PST.', type: 'OAuthException', code: 190, error_subcode: 463 });
    }
    if (presented !== token) return fail({ message: 'Invalid OAuth access token - Cannot parse access token', type: 'OAuthException', code: 190 });
    const raw = takeFault(raws, phase);
    if (raw) return { status: 0, body: '', raw: raw.respond };
    const bare = takeFault(bare400s, phase);
    if (bare) return { status: 400, body: '' };
    const limit = takeFault(rateLimits, phase);
    if (limit) {
      const headers: Record<string, string> = {};
      if (limit.usageHeader) {
        const name = limit.usageHeader.header ?? 'x-business-use-case-usage';
        const usage = { call_count: 100, total_cputime: 12, total_time: 40, estimated_time_to_regain_access: limit.usageHeader.minutes };
        headers[name] = JSON.stringify(name === 'x-business-use-case-usage' ? { [pageId]: [{ type: 'pages', ...usage }] } : usage);
      }
      return fail({ message: '(#32) Page request limit reached', type: 'OAuthException', code: limit.code }, limit.httpStatus ?? 400, headers);
    }
    return undefined;
  }

  function sessionOf(fields: Map<string, string>): UploadSession | Reply {
    const id = fields.get('upload_session_id');
    const s = id === undefined ? undefined : sessions.get(id);
    if (s) return s;
    return fail({ message: 'Your video upload timed out before it could be completed. Please try again.', type: 'OAuthException', code: 6001, error_subcode: 1363030 });
  }

  function startPhase(fields: Map<string, string>): Reply {
    const raw = fields.get('file_size') ?? '';
    if (!/^\d+$/.test(raw)) return fail({ message: '(#100) The parameter file_size is required', type: 'OAuthException', code: 100 });
    const size = Number(raw);
    if (size < MIN_FILE_SIZE) return fail({ message: 'The video you tried to upload is too small.', type: 'OAuthException', code: 6000, error_subcode: 1363022 });
    if (size > MAX_FILE_SIZE) return fail({ message: 'The video you tried to upload is too large.', type: 'OAuthException', code: 6000, error_subcode: 1363023 });
    const video: GraphVideo = { id: newId(), size, received: 0, published: false };
    const session: UploadSession = { id: newId(), video, hash: createHash('sha256') };
    videos.set(video.id, video);
    sessions.set(session.id, session);
    return ok({ video_id: video.id, upload_session_id: session.id, ...offsets(video) });
  }

  function finishPhase(fields: Map<string, string>): Reply {
    const s = sessionOf(fields);
    if (!('video' in s)) return s;
    const v = s.video;
    if (!v.published) {
      if (v.received !== v.size) return fail({ message: `(#100) The upload is incomplete: ${v.received} of ${v.size} bytes`, type: 'OAuthException', code: 100 });
      v.sha256 = s.hash.digest('hex');
      v.title = fields.get('title');
      v.description = fields.get('description');
      v.published = true;
    }
    return ok({ success: true });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://graph.local');
    const auth = /^(?:OAuth|Bearer)\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const record: GraphRequestRecord = {
      method: req.method ?? '',
      phase: 'unknown',
      tokenPresent: auth !== undefined || url.searchParams.has('access_token'),
      tokenInUrl: url.searchParams.has('access_token'),
      outcome: '',
    };
    requests.push(record);
    const reply = (r: Reply) => {
      if (r.raw) {
        record.outcome = 'raw';
        return void Promise.resolve(r.raw(res)).catch(() => res.destroy());
      }
      record.status = r.status;
      const e = (r.body ? JSON.parse(r.body) : {}) as { error?: GraphError };
      record.outcome = r.body === '' ? 'bare-400' : e.error ? `error ${e.error.code}${e.error.error_subcode ? `/${e.error.error_subcode}` : ''}` : 'ok';
      res.writeHead(r.status, { 'content-type': r.body === '' ? 'text/plain' : 'application/json', ...r.headers }).end(r.body);
    };
    const parts = url.pathname.split('/').filter(Boolean);
    if (parts[0] !== apiVersion) return reply(fail({ message: `Unknown path components: /${parts[0] ?? ''}`, type: 'OAuthException', code: 2500 }));

    if (req.method === 'GET' && parts.length === 2) {
      record.phase = 'permalink';
      const pre = preempt('permalink', auth ?? url.searchParams.get('access_token') ?? undefined);
      if (pre) return reply(pre);
      const v = videos.get(parts[1]!);
      if (!v || !v.published) {
        return reply(fail({ message: `Unsupported get request. Object with ID '${parts[1]}' does not exist`, type: 'GraphMethodException', code: 100, error_subcode: 33 }));
      }
      return reply(ok({ permalink_url: `/${pageId}/videos/${v.id}/`, id: v.id }));
    }
    if (req.method !== 'POST' || parts.length !== 3 || parts[1] !== pageId || parts[2] !== 'videos') {
      req.resume();
      return reply(fail({ message: 'Unsupported request', type: 'GraphMethodException', code: 100 }));
    }

    const boundary = multipartBoundary(req.headers['content-type']);
    if (!boundary) {
      req.resume();
      return reply(fail({ message: '(#100) The request must be multipart/form-data', type: 'OAuthException', code: 100 }));
    }
    const fields = new Map<string, string>();
    // Decided when the chunk part begins: where its bytes go, and what the answer is if not a success.
    let chunk: { session: UploadSession; hash: Hash; bytes: number; refused?: Reply } | undefined;
    let cut: CutFault | undefined;
    let cutDone = false;
    const presented = () => auth ?? fields.get('access_token') ?? url.searchParams.get('access_token') ?? undefined;
    const parser = new MultipartParser(boundary, (info): PartSink => {
      if (info.name !== 'video_file_chunk') return fieldSink(64 * 1024, (v) => fields.set(info.name, v));
      record.phase = 'transfer';
      record.sessionId = fields.get('upload_session_id');
      record.startOffset = Number(fields.get('start_offset'));
      record.chunkBytes = 0;
      const refused = preempt('transfer', presented()) ?? transferCheck();
      const state = { session: undefined as unknown as UploadSession, hash: createHash('sha256'), bytes: 0, refused };
      if (!refused) {
        const s = sessionOf(fields) as UploadSession;
        state.session = s;
        state.hash = s.hash.copy();
        cut = cuts.shift();
      }
      chunk = state;
      return {
        data(bytes) {
          if (cutDone) return;
          state.bytes += bytes.length;
          record.chunkBytes = state.bytes;
          if (state.refused) return;
          if (cut && !cut.afterCommit && state.bytes >= cut.afterBytes) {
            // Gone mid-chunk: nothing of it counts.
            cutDone = true;
            record.chunkBytes = cut.afterBytes;
            record.outcome = cut.stall ? 'stalled' : 'cut';
            if (!cut.stall) req.socket.destroy();
            return;
          }
          state.hash.update(bytes);
        },
        end() {},
      };
    });

    function transferCheck(): Reply | undefined {
      const s = sessionOf(fields);
      if (!('video' in s)) return s;
      const start = Number(fields.get('start_offset'));
      if (!Number.isSafeInteger(start) || start !== s.video.received) {
        const o = offsets(s.video);
        return fail({
          message: 'There was a problem uploading your video. Please try again.',
          type: 'OAuthException',
          code: 6001,
          error_subcode: 1363037,
          error_data: { start_offset: Number(o.start_offset), end_offset: Number(o.end_offset) },
        });
      }
      return undefined;
    }

    try {
      for await (const bytes of req) {
        if (cutDone) return;
        parser.write(bytes as Buffer);
        if (cutDone && cut?.stall) {
          if (!req.socket.destroyed) await once(req.socket, 'close');
          return;
        }
      }
      parser.end();
    } catch (err) {
      if (cutDone || req.destroyed) return;
      return reply(fail({ message: `(#100) ${(err as Error).message}`, type: 'OAuthException', code: 100 }));
    }
    if (cutDone) return;

    const phase = fields.get('upload_phase');
    if (phase === 'transfer') {
      record.phase = 'transfer';
      if (!chunk) {
        const pre = preempt('transfer', presented());
        return reply(pre ?? fail({ message: '(#100) video_file_chunk is required', type: 'OAuthException', code: 100 }));
      }
      if (chunk.refused) return reply(chunk.refused);
      const v = chunk.session.video;
      if (chunk.bytes === 0 || v.received + chunk.bytes > v.size) {
        return reply(fail({ message: 'There was a problem uploading your video. Please try again.', type: 'OAuthException', code: 6001, error_subcode: 1363033 }));
      }
      chunk.session.hash = chunk.hash;
      v.received += chunk.bytes;
      if (cut?.afterCommit) {
        record.outcome = 'cut';
        req.socket.destroy();
        return;
      }
      return reply(ok(v.received === v.size ? { start_offset: String(v.size), end_offset: String(v.size) } : offsets(v)));
    }
    if (phase === 'start' || phase === 'finish') {
      record.phase = phase;
      record.sessionId = fields.get('upload_session_id');
      const pre = preempt(phase, presented());
      if (pre) return reply(pre);
      return reply(phase === 'start' ? startPhase(fields) : finishPhase(fields));
    }
    return reply(fail({ message: '(#100) upload_phase must be one of start, transfer, finish', type: 'OAuthException', code: 100 }));
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: String(err), type: 'GraphException', code: 1 } }));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    base,
    pageId,
    apiVersion,
    token,
    chunkSize,
    requests,
    clientOptions: (extra = {}) => ({ baseUrl: base, apiVersion, pageId, accessToken: token, ...extra }),
    video: (id) => videos.get(id),
    expireToken: () => {
      tokenExpired = true;
    },
    expireSessions: () => {
      sessions = new Map();
    },
    rateLimitNext: (fault) => void rateLimits.push(fault),
    cutNextTransfer: (fault) => void cuts.push(fault),
    bare400Next: (o = {}) => void bare400s.push(o),
    answerNext: (fault) => void raws.push(fault),
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
