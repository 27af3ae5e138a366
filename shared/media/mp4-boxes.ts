/**
 * What an MP4's index (`moov`) says about its tracks, read from the box bytes alone: the
 * handler, the codec of the first sample entry, timescale, duration and sample count, and
 * for H.264 the profile, chroma format and bit depth from its sequence parameter set (ISO
 * 14496-12, -14 and -15; H.264 7.3.2.1.1). Enough to verify the files our ffmpeg wrote
 * without starting ffprobe for each one.
 */

export interface AvcConfig {
  profile: number;
  /** 0 monochrome, 1 4:2:0, 2 4:2:2, 3 4:4:4. */
  chromaFormat: number;
  bitDepthLuma: number;
  bitDepthChroma: number;
}

export interface Mp4Track {
  /** `vide`, `soun`, … */
  handler: string;
  /** The first sample entry's type: `avc1`, `mp4a`, … */
  sampleEntry: string;
  timescale: number;
  duration: number;
  samples: number;
  avc?: AvcConfig;
  /** The ES descriptor's objectTypeIndication: 0x40 is MPEG-4 audio (AAC). */
  audioObjectType?: number;
}

export interface Mp4Movie {
  timescale: number;
  duration: number;
  tracks: Mp4Track[];
}

export class Mp4ParseError extends Error {
  override name = 'Mp4ParseError';
}

interface Box {
  type: string;
  /** Where its content starts and ends in the buffer. */
  start: number;
  end: number;
}

/**
 * The box header at the start of `head`: 8 bytes, or 16 with a 64-bit size. `size` counts
 * the header; a size of 0 means "to the end", `remaining` bytes from the box's start.
 * Undefined when `head` is shorter than the header it announces.
 */
export function boxHeader(head: Buffer, remaining: number): { type: string; size: number; headerSize: number } | undefined {
  if (head.length < 8) return undefined;
  const type = head.toString('latin1', 4, 8);
  const size = head.readUInt32BE(0);
  if (size === 1) return head.length < 16 ? undefined : { type, size: Number(head.readBigUInt64BE(8)), headerSize: 16 };
  return { type, size: size === 0 ? remaining : size, headerSize: 8 };
}

function* boxes(buf: Buffer, start: number, end: number): Generator<Box> {
  let at = start;
  while (at + 8 <= end) {
    const h = boxHeader(buf.subarray(at, Math.min(at + 16, end)), end - at);
    if (!h) throw new Mp4ParseError(`the box at ${at} is cut short`);
    if (h.size < h.headerSize || at + h.size > end) throw new Mp4ParseError(`box ${h.type} at ${at} claims ${h.size} bytes, past the end of its parent`);
    yield { type: h.type, start: at + h.headerSize, end: at + h.size };
    at += h.size;
  }
  if (at !== end) throw new Mp4ParseError(`${end - at} stray bytes at ${at}`);
}

function child(buf: Buffer, parent: Box, type: string): Box | undefined {
  for (const b of boxes(buf, parent.start, parent.end)) if (b.type === type) return b;
  return undefined;
}

function need(buf: Buffer, parent: Box, path: string): Box {
  let box = parent;
  for (const type of path.split('.')) {
    const next = child(buf, box, type);
    if (!next) throw new Mp4ParseError(`no ${type} box in ${box.type}`);
    box = next;
  }
  return box;
}

function checkRoom(box: Box, bytes: number): void {
  if (box.end - box.start < bytes) throw new Mp4ParseError(`box ${box.type} is too short (${box.end - box.start} bytes)`);
}

/** mvhd and mdhd share this start: version, flags, two dates, timescale, duration. */
function timing(buf: Buffer, box: Box): { timescale: number; duration: number } {
  checkRoom(box, 4);
  const v1 = buf[box.start] === 1;
  checkRoom(box, v1 ? 32 : 20);
  const at = box.start + (v1 ? 20 : 12);
  const timescale = buf.readUInt32BE(at);
  const duration = v1 ? Number(buf.readBigUInt64BE(at + 4)) : buf.readUInt32BE(at + 4);
  if (timescale === 0) throw new Mp4ParseError(`${box.type} has a timescale of 0`);
  return { timescale, duration };
}

/** The moov box's content (without its own 8-byte header). */
export function parseMoov(moov: Buffer): Mp4Movie {
  const root: Box = { type: 'moov', start: 0, end: moov.length };
  const movie: Mp4Movie = { ...timing(moov, need(moov, root, 'mvhd')), tracks: [] };
  for (const trak of boxes(moov, 0, moov.length)) {
    if (trak.type !== 'trak') continue;
    const mdia = need(moov, trak, 'mdia');
    const hdlr = need(moov, mdia, 'hdlr');
    checkRoom(hdlr, 12);
    const stbl = need(moov, mdia, 'minf.stbl');
    const stsd = need(moov, stbl, 'stsd');
    checkRoom(stsd, 8);
    const [entry] = boxes(moov, stsd.start + 8, stsd.end);
    if (!entry) throw new Mp4ParseError('stsd has no sample entry');
    const stsz = need(moov, stbl, 'stsz');
    checkRoom(stsz, 12);
    const track: Mp4Track = {
      handler: moov.toString('latin1', hdlr.start + 8, hdlr.start + 12),
      sampleEntry: entry.type,
      ...timing(moov, need(moov, mdia, 'mdhd')),
      samples: moov.readUInt32BE(stsz.start + 8),
    };
    // Sample entry fields before the child boxes: 78 bytes for video, 28 for audio.
    if (entry.type === 'avc1' || entry.type === 'avc3') {
      checkRoom(entry, 78);
      const avcC = child(moov, { ...entry, start: entry.start + 78 }, 'avcC');
      if (avcC) track.avc = parseAvcC(moov.subarray(avcC.start, avcC.end));
    } else if (entry.type === 'mp4a') {
      checkRoom(entry, 28);
      const esds = child(moov, { ...entry, start: entry.start + 28 }, 'esds');
      if (esds) track.audioObjectType = esdsObjectType(moov.subarray(esds.start + 4, esds.end));
    }
    movie.tracks.push(track);
  }
  return movie;
}

/** AVCDecoderConfigurationRecord: the first SPS says the rest. */
export function parseAvcC(rec: Buffer): AvcConfig {
  if (rec.length < 8 || (rec[5]! & 0x1f) === 0) throw new Mp4ParseError('avcC holds no sequence parameter set');
  const len = rec.readUInt16BE(6);
  if (8 + len > rec.length) throw new Mp4ParseError('avcC: the sequence parameter set is cut short');
  return parseSps(rec.subarray(8, 8 + len));
}

/** H.264 7.3.2.1.1 up to the bit depths; other profiles are 4:2:0 at 8 bits by definition. */
export function parseSps(nal: Buffer): AvcConfig {
  const r = new BitReader(unescapeRbsp(nal.subarray(1)));
  const profile = r.bits(8);
  r.bits(16); // constraint flags, level
  r.ue(); // seq_parameter_set_id
  const config: AvcConfig = { profile, chromaFormat: 1, bitDepthLuma: 8, bitDepthChroma: 8 };
  if ([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135].includes(profile)) {
    config.chromaFormat = r.ue();
    if (config.chromaFormat === 3) r.bits(1); // separate_colour_plane_flag
    config.bitDepthLuma = r.ue() + 8;
    config.bitDepthChroma = r.ue() + 8;
  }
  return config;
}

/** The emulation-prevention byte of each 00 00 03 out. */
function unescapeRbsp(b: Buffer): Buffer {
  const out = Buffer.alloc(b.length);
  let n = 0;
  let zeros = 0;
  for (const byte of b) {
    if (zeros >= 2 && byte === 3) {
      zeros = 0;
      continue;
    }
    zeros = byte === 0 ? zeros + 1 : 0;
    out[n++] = byte;
  }
  return out.subarray(0, n);
}

class BitReader {
  private at = 0;

  private readonly buf: Buffer;

  constructor(buf: Buffer) {
    this.buf = buf;
  }

  bits(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) {
      const byte = this.buf[this.at >> 3];
      if (byte === undefined) throw new Mp4ParseError('sequence parameter set is cut short');
      v = v * 2 + ((byte >> (7 - (this.at & 7))) & 1);
      this.at++;
    }
    return v;
  }

  /** Exp-Golomb, unsigned. */
  ue(): number {
    let zeros = 0;
    while (this.bits(1) === 0) if (++zeros > 31) throw new Mp4ParseError('bad Exp-Golomb code in the sequence parameter set');
    return 2 ** zeros - 1 + this.bits(zeros);
  }
}

/** ES_Descriptor (tag 3) → DecoderConfigDescriptor (tag 4) → objectTypeIndication. */
function esdsObjectType(d: Buffer): number | undefined {
  let at = 0;
  const header = (): { tag: number; size: number } | undefined => {
    if (at >= d.length) return undefined;
    const tag = d[at++]!;
    let size = 0;
    for (let i = 0; i < 4; i++) {
      const b = d[at++];
      if (b === undefined) return undefined;
      size = size * 128 + (b & 0x7f);
      if ((b & 0x80) === 0) break;
    }
    return { tag, size };
  };
  const es = header();
  if (es?.tag !== 3 || at + 3 > d.length) return undefined;
  const flags = d[at + 2]!;
  at += 3;
  if (flags & 0x80) at += 2; // dependsOn_ES_ID
  if (flags & 0x40) at += 1 + (d[at] ?? 0); // URL
  if (flags & 0x20) at += 2; // OCR_ES_Id
  const dc = header();
  return dc?.tag === 4 ? d[at] : undefined;
}
