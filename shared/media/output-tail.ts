/**
 * The last `maxBytes` of a stream (ffmpeg's stderr): drained continuously so the child never
 * blocks on a full pipe, kept bounded so a chatty or hostile input cannot grow our memory.
 */
export class OutputTail {
  private chunks: Buffer[] = [];
  private bytes = 0;
  private dropped = 0;

  readonly maxBytes: number;

  /** @param maxBytes @default 65536 */
  constructor(maxBytes = 64 * 1024) {
    this.maxBytes = maxBytes;
  }

  push(chunk: Buffer): void {
    if (chunk.length >= this.maxBytes) {
      this.dropped += this.bytes + chunk.length - this.maxBytes;
      this.chunks = [chunk.subarray(chunk.length - this.maxBytes)];
      this.bytes = this.maxBytes;
      return;
    }
    this.chunks.push(chunk);
    this.bytes += chunk.length;
    while (this.bytes > this.maxBytes) {
      const first = this.chunks[0]!;
      const excess = this.bytes - this.maxBytes;
      if (first.length <= excess) {
        this.chunks.shift();
        this.bytes -= first.length;
        this.dropped += first.length;
      } else {
        this.chunks[0] = first.subarray(excess);
        this.bytes -= excess;
        this.dropped += excess;
      }
    }
  }

  /** Bytes seen but no longer kept. */
  get droppedBytes(): number {
    return this.dropped;
  }

  /** The kept text; when the start was cut, from the first whole line on. */
  text(): string {
    let buf = Buffer.concat(this.chunks);
    if (this.dropped > 0) {
      const nl = buf.indexOf(0x0a);
      if (nl >= 0 && nl < buf.length - 1) buf = buf.subarray(nl + 1);
    }
    return buf.toString('utf8');
  }

  /** The last `n` non-empty lines, each cut to `maxLineLength` characters. */
  lastLines(n: number, maxLineLength = 300): string[] {
    const lines = this.text()
      .split(/\r?\n|\r/)
      .map((l) => l.trimEnd())
      .filter((l) => l.length > 0);
    return lines.slice(-n).map((l) => (l.length > maxLineLength ? `${l.slice(0, maxLineLength)}…` : l));
  }
}
