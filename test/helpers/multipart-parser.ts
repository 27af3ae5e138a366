/**
 * A streaming multipart/form-data parser for the test servers: parts are handed over as
 * they arrive, so a chunk of any size passes through without being held. Only what the
 * Graph API test server needs: the `name` and `filename` of each part's
 * Content-Disposition, no nested multiparts.
 */

export interface PartSink {
  data(bytes: Buffer): void;
  end(): void;
}

export interface PartInfo {
  name: string;
  filename: string | undefined;
}

const MAX_HEADER_BYTES = 16 * 1024;
const CRLF2 = Buffer.from('\r\n\r\n');

/** The boundary of a `multipart/form-data; boundary=…` content type; undefined for any other type. */
export function multipartBoundary(contentType: string | undefined): string | undefined {
  if (!contentType || !/^multipart\/form-data\s*;/i.test(contentType)) return undefined;
  const m = /;\s*boundary=(?:"([^"]{1,70})"|([^;\s]{1,70}))/i.exec(contentType);
  return m?.[1] ?? m?.[2];
}

export class MultipartParser {
  readonly #delimiter: Buffer;
  readonly #onPart: (info: PartInfo) => PartSink;
  #pending: Buffer;
  #state: 'preamble' | 'headers' | 'body' | 'after-delimiter' | 'done' = 'preamble';
  #sink: PartSink | undefined;

  constructor(boundary: string, onPart: (info: PartInfo) => PartSink) {
    this.#delimiter = Buffer.from(`\r\n--${boundary}`);
    this.#onPart = onPart;
    // The first delimiter has no CRLF before it; adding one lets one search find them all.
    this.#pending = Buffer.from('\r\n');
  }

  get done(): boolean {
    return this.#state === 'done';
  }

  /** @throws Error on a malformed body. */
  write(bytes: Buffer): void {
    this.#pending = this.#pending.length === 0 ? bytes : Buffer.concat([this.#pending, bytes]);
    for (;;) {
      if (this.#state === 'done') {
        this.#pending = Buffer.alloc(0);
        return;
      }
      if (!this.step()) return;
    }
  }

  /** @throws Error when the body ended before the closing delimiter. */
  end(): void {
    if (this.#state !== 'done') throw new Error('multipart body ended before its closing delimiter');
  }

  /** One step of the state machine; false when more bytes are needed. */
  private step(): boolean {
    const buf = this.#pending;
    switch (this.#state) {
      case 'preamble':
      case 'body': {
        const at = buf.indexOf(this.#delimiter);
        if (at === -1) {
          // Keep a tail that may be the start of a delimiter.
          const keep = Math.min(buf.length, this.#delimiter.length - 1);
          if (this.#state === 'body' && buf.length > keep) this.#sink!.data(buf.subarray(0, buf.length - keep));
          this.#pending = buf.subarray(buf.length - keep);
          return false;
        }
        if (this.#state === 'body') {
          if (at > 0) this.#sink!.data(buf.subarray(0, at));
          this.#sink!.end();
          this.#sink = undefined;
        }
        this.#pending = buf.subarray(at + this.#delimiter.length);
        this.#state = 'after-delimiter';
        return true;
      }
      case 'after-delimiter': {
        if (buf.length < 2) return false;
        const two = buf.toString('latin1', 0, 2);
        if (two === '--') {
          this.#state = 'done';
          return true;
        }
        if (two !== '\r\n') throw new Error('malformed multipart delimiter');
        this.#pending = buf.subarray(2);
        this.#state = 'headers';
        return true;
      }
      case 'headers': {
        const at = buf.indexOf(CRLF2);
        if (at === -1) {
          if (buf.length > MAX_HEADER_BYTES) throw new Error('multipart part headers too long');
          return false;
        }
        const info = partInfo(buf.toString('utf8', 0, at));
        this.#pending = buf.subarray(at + CRLF2.length);
        this.#sink = this.#onPart(info);
        this.#state = 'body';
        return true;
      }
      case 'done':
        return false;
    }
  }
}

function partInfo(headerText: string): PartInfo {
  const disposition = headerText.split('\r\n').find((l) => /^content-disposition\s*:/i.test(l));
  if (!disposition) throw new Error('multipart part without Content-Disposition');
  const param = (key: string) => {
    const m = new RegExp(`;\\s*${key}="((?:[^"\\\\]|\\\\.)*)"`, 'i').exec(disposition) ?? new RegExp(`;\\s*${key}=([^;\\s]+)`, 'i').exec(disposition);
    return m?.[1];
  };
  const name = param('name');
  if (name === undefined) throw new Error('multipart part without a name');
  return { name, filename: param('filename') };
}

/** A sink that keeps a small text field, refusing one larger than `limit` bytes. */
export function fieldSink(limit: number, onValue: (value: string) => void): PartSink {
  const parts: Buffer[] = [];
  let length = 0;
  return {
    data(bytes) {
      length += bytes.length;
      if (length > limit) throw new Error(`multipart field over ${limit} bytes`);
      parts.push(bytes);
    },
    end() {
      onValue(Buffer.concat(parts).toString('utf8'));
    },
  };
}
