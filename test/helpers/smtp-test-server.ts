import { SMTPServer } from 'smtp-server';

export interface CapturedMail {
  from: string;
  to: string[];
  /** The message as received, headers and MIME parts undecoded. */
  raw: string;
  /** Whether the session had switched to TLS (STARTTLS) when the message came. */
  secure: boolean;
}

/**
 * A real SMTP server (the smtp-server package) that keeps what it receives. Recipients in
 * `rejectRecipients` get `550 5.1.1 no such mailbox`; every MAIL FROM is counted as a
 * transaction. STARTTLS is offered with the package's built-in self-signed certificate.
 */
export class SmtpTestServer {
  readonly mails: CapturedMail[] = [];
  transactions = 0;
  private server: SMTPServer | undefined;

  readonly port: number;
  private readonly rejectRecipients: ReadonlySet<string>;

  private constructor(port: number, rejectRecipients: ReadonlySet<string>) {
    this.port = port;
    this.rejectRecipients = rejectRecipients;
  }

  /** Listens on `port` (0 picks one). */
  static async start(opts: { port?: number; rejectRecipients?: string[] } = {}): Promise<SmtpTestServer> {
    const s = new SmtpTestServer(opts.port ?? 0, new Set((opts.rejectRecipients ?? []).map((a) => a.toLowerCase())));
    return s.listen();
  }

  /** An SMTP_URL for it, with credentials the server accepts. */
  get url(): string {
    return `smtp://vigil:s3cret@127.0.0.1:${this.port}`;
  }

  private async listen(): Promise<SmtpTestServer> {
    const server = new SMTPServer({
      logger: false,
      authOptional: true,
      onAuth: (auth, _session, cb) => cb(null, { user: auth.username }),
      onMailFrom: (_address, _session, cb) => {
        this.transactions++;
        cb();
      },
      onRcptTo: (address, _session, cb) => {
        if (this.rejectRecipients.has(address.address.toLowerCase())) {
          cb(Object.assign(new Error('5.1.1 no such mailbox'), { responseCode: 550 }));
        } else cb();
      },
      onData: (stream, session, cb) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          this.mails.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            raw: Buffer.concat(chunks).toString('utf8'),
            secure: session.secure,
          });
          cb(null, `queued as test-${this.mails.length}`);
        });
      },
    });
    await new Promise<void>((resolve, reject) => {
      server.server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    (this as { port: number }).port = (server.server.address() as { port: number }).port;
    this.server = server;
    return this;
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }
}

/** A header of a raw message, unfolded, its RFC 2047 encoded words decoded. */
export function mailHeader(raw: string, name: string): string | undefined {
  const head = raw.split(/\r?\n\r?\n/)[0]!.replace(/\r?\n[ \t]+/g, ' ');
  const m = new RegExp(`^${name}:[ \\t]*(.*)$`, 'im').exec(head);
  return m?.[1] === undefined ? undefined : decodeWords(m[1].trim());
}

function decodeWords(v: string): string {
  return v
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?utf-8\?([QB])\?([^?]*)\?=/gi, (_, enc: string, text: string) =>
      enc.toUpperCase() === 'B'
        ? Buffer.from(text, 'base64').toString('utf8')
        : decodeHexEscapes(text.replace(/_/g, ' ')),
    );
}

/** `=XX` escapes to their bytes, read as UTF-8: quoted-printable bodies and Q-encoded words alike. */
function decodeHexEscapes(s: string): string {
  return Buffer.from(s.replace(/=([0-9A-F]{2})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8');
}

/** The decoded body of the MIME part of this content type. */
export function mailPart(raw: string, contentType: string): string | undefined {
  const parts = raw.split(/\r?\n--[^\r\n]+/);
  for (const part of parts) {
    const [head = '', ...rest] = part.split(/\r?\n\r?\n/);
    if (!new RegExp(`content-type:\\s*${contentType}`, 'i').test(head)) continue;
    const body = rest.join('\r\n\r\n');
    if (/content-transfer-encoding:\s*quoted-printable/i.test(head)) {
      return decodeHexEscapes(body.replace(/=\r?\n/g, ''));
    }
    if (/content-transfer-encoding:\s*base64/i.test(head)) return Buffer.from(body, 'base64').toString('utf8');
    return body;
  }
  return undefined;
}
