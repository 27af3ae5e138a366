// The baseline of the Facebook transfer bench: the Graph API's start / transfer / finish
// as a bare loop over the same file and server, with nothing of the client's (no error
// classification, no retries, no session callbacks, no permalink). Each asked range is read
// from the file and sent as a FormData Blob, as the client does.
import { open, stat } from 'node:fs/promises';
import type { GraphApiServer } from '../helpers/graph-api-server.ts';

type GraphTarget = Pick<GraphApiServer, 'base' | 'apiVersion' | 'pageId' | 'token'>;

/** Uploads the file; returns the video id. Throws on any answer that is not a success. */
export async function bareChunkedLoop(path: string, server: GraphTarget): Promise<string> {
  const url = `${server.base}/${server.apiVersion}/${server.pageId}/videos`;
  const headers = { authorization: `OAuth ${server.token}` };
  const post = async (form: FormData): Promise<Record<string, string>> => {
    const res = await fetch(url, { method: 'POST', headers, body: form });
    const body = (await res.json()) as Record<string, string>;
    if (!res.ok) throw new Error(`HTTP ${res.status}: ${JSON.stringify(body)}`);
    return body;
  };

  const { size } = await stat(path);
  const start = new FormData();
  start.append('upload_phase', 'start');
  start.append('file_size', String(size));
  const session = await post(start);
  let from = Number(session.start_offset);
  let to = Number(session.end_offset);
  const fh = await open(path, 'r');
  try {
    while (from < to) {
      const buf = Buffer.allocUnsafe(to - from);
      const { bytesRead } = await fh.read(buf, 0, buf.length, from);
      if (bytesRead !== buf.length) throw new Error(`short read at ${from}`);
      const form = new FormData();
      form.append('upload_phase', 'transfer');
      form.append('upload_session_id', session.upload_session_id!);
      form.append('start_offset', String(from));
      form.append('video_file_chunk', new Blob([buf]), 'chunk');
      const next = await post(form);
      from = Number(next.start_offset);
      to = Number(next.end_offset);
    }
  } finally {
    await fh.close();
  }
  const finish = new FormData();
  finish.append('upload_phase', 'finish');
  finish.append('upload_session_id', session.upload_session_id!);
  finish.append('title', 'bench');
  finish.append('description', 'bench');
  await post(finish);
  return session.video_id!;
}
