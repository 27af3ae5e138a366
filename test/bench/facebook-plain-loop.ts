// The baseline of the Facebook transfer bench: the Graph API's start / transfer / finish
// as a bare loop over the same file and server, with nothing of the client's (no error
// classification, no retries, no session callbacks, no permalink). Each asked range is read
// from the file and sent as a FormData Blob, as the client does.
import { open, stat } from 'node:fs/promises';
import type { GraphApiServer } from '../helpers/graph-api-server.ts';

type GraphTarget = Pick<GraphApiServer, 'base' | 'apiVersion' | 'pageId' | 'token'>;

/** Where the bare loop reads each asked range `[from, to)` from. */
export interface BareChunks {
  size: number;
  read(from: number, to: number): Promise<Buffer>;
}

/** Uploads the file; returns the video id. Throws on any answer that is not a success. */
export async function bareChunkedLoop(path: string, server: GraphTarget): Promise<string> {
  const { size } = await stat(path);
  const fh = await open(path, 'r');
  try {
    return await bareLoop({
      size,
      async read(from, to) {
        const buf = Buffer.allocUnsafe(to - from);
        const { bytesRead } = await fh.read(buf, 0, buf.length, from);
        if (bytesRead !== buf.length) throw new Error(`short read at ${from}`);
        return buf;
      },
    }, server);
  } finally {
    await fh.close();
  }
}

/** The loop itself over any source of ranges; returns the video id. Throws on any answer that is not a success. */
export async function bareLoop(source: BareChunks, server: GraphTarget): Promise<string> {
  const url = `${server.base}/${server.apiVersion}/${server.pageId}/videos`;
  const post = async (fields: Record<string, string | Blob>): Promise<Record<string, string>> => {
    const form = new FormData();
    for (const [k, v] of Object.entries(fields)) (typeof v === 'string' ? form.append(k, v) : form.append(k, v, 'chunk'));
    const res = await fetch(url, { method: 'POST', headers: { authorization: `OAuth ${server.token}` }, body: form });
    const body = (await res.json()) as Record<string, string>;
    if (!res.ok) throw new Error(`HTTP ${res.status}: ${JSON.stringify(body)}`);
    return body;
  };
  const session = await post({ upload_phase: 'start', file_size: String(source.size) });
  let from = Number(session.start_offset);
  let to = Number(session.end_offset);
  while (from < to) {
    const chunk = await source.read(from, to);
    const next = await post({ upload_phase: 'transfer', upload_session_id: session.upload_session_id!, start_offset: String(from), video_file_chunk: new Blob([chunk]) });
    from = Number(next.start_offset);
    to = Number(next.end_offset);
  }
  await post({ upload_phase: 'finish', upload_session_id: session.upload_session_id!, title: 'bench', description: 'bench' });
  return session.video_id!;
}
