// The bytes of a transfer: where a chunk is read from, and the multipart body it is sent
// in without being copied (facebook-client.ts sends them).
import { randomBytes } from 'node:crypto';
import { open, stat } from 'node:fs/promises';

/** Reads byte ranges of the video: a local file, or an S3 object by ranged GETs. */
export interface ChunkSource {
  size: number;
  /**
   * Bytes [start, end): exactly end - start of them. The client is done with a chunk once
   * the API answered it, before it asks for the next, so a source may fill the buffer
   * again after two more reads (s3-chunk-source.ts does).
   */
  read(start: number, end: number, signal?: AbortSignal): Promise<Buffer>;
}

/** The local file as a ChunkSource: each range read with its own file handle, so nothing stays open. */
export async function fileChunkSource(path: string): Promise<ChunkSource> {
  const { size } = await stat(path);
  return {
    size,
    async read(start, end, signal) {
      signal?.throwIfAborted();
      const buf = Buffer.allocUnsafe(end - start);
      const fh = await open(path, 'r');
      try {
        let done = 0;
        while (done < buf.length) {
          const { bytesRead } = await fh.read(buf, done, buf.length - done, start + done);
          if (bytesRead === 0) throw new Error(`the file ended at ${start + done} of ${size} bytes`);
          done += bytesRead;
        }
      } finally {
        await fh.close();
      }
      return buf;
    },
  };
}

/** A multipart/form-data body as the parts it is sent in, without joining them. */
export class MultipartBody {
  readonly length: number;
  readonly contentType: string;
  readonly parts: readonly Uint8Array[];

  constructor(
    contentType: string,
    parts: readonly Uint8Array[],
  ) {
    this.contentType = contentType;
    this.parts = parts;
    this.length = parts.reduce((n, p) => n + p.byteLength, 0);
  }
}

/**
 * A transfer's multipart/form-data body, byte for byte as fetch serialises a FormData of
 * the same fields and a `chunk` file part (application/octet-stream), but sent without
 * copying the chunk: fetch copies a FormData's Blob, reads it back in small pieces and,
 * following redirects, tees the body to be able to send it again (a second copy). On the
 * uploader bench that cost the process more CPU than the rest of the transfer together.
 * The field values are ids and offsets; anything FormData would escape or normalise is
 * refused rather than sent differently.
 */
export function transferForm(fields: Record<string, string>, chunk: Uint8Array): MultipartBody {
  const boundary = `----formdata-vigil-${randomBytes(12).toString('hex')}`;
  let head = '';
  for (const [name, value] of Object.entries(fields)) {
    if (!/^[\x20-\x7e]*$/.test(name + value) || name.includes('"')) throw new TypeError(`a transfer field that FormData would escape: ${name}`);
    head += `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  }
  head += `--${boundary}\r\nContent-Disposition: form-data; name="video_file_chunk"; filename="chunk"\r\nContent-Type: application/octet-stream\r\n\r\n`;
  return new MultipartBody(`multipart/form-data; boundary=${boundary}`, [Buffer.from(head, 'latin1'), chunk, Buffer.from(`\r\n--${boundary}--\r\n`, 'latin1')]);
}

/**
 * The fetch options that send `form`. A MultipartBody goes as a stream of its parts with
 * its length declared (so not chunked: the same request as FormData's), and a redirect
 * fails instead of being followed: following one is what makes fetch tee (copy) the body,
 * and the Graph API does not redirect an upload.
 */
export function requestBody(form: FormData | MultipartBody | undefined): Pick<RequestInit, 'body' | 'redirect'> & { duplex?: 'half' } {
  if (!(form instanceof MultipartBody)) return { body: form };
  const parts = [...form.parts];
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      const next = parts.shift();
      if (next) controller.enqueue(next);
      else controller.close();
    },
  });
  return { body, duplex: 'half', redirect: 'error' };
}
