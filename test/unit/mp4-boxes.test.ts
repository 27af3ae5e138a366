import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Mp4ParseError, parseMoov, parseSps } from '../../shared/media/mp4-boxes.ts';

/** A NAL unit (header 0x67) from a string of RBSP bits, padded with the stop bit, escaped as an encoder must (00 00 0x → 00 00 03 0x). */
function spsNal(bits: string): Buffer {
  const padded = `${bits}1`.padEnd(Math.ceil((bits.length + 1) / 8) * 8, '0');
  const rbsp = [...padded.matchAll(/.{8}/g)].map((m) => parseInt(m[0], 2));
  const out = [0x67];
  let zeros = 0;
  for (const b of rbsp) {
    if (zeros >= 2 && b <= 3) {
      out.push(3);
      zeros = 0;
    }
    out.push(b);
    zeros = b === 0 ? zeros + 1 : 0;
  }
  return Buffer.from(out);
}

const byte = (n: number) => n.toString(2).padStart(8, '0');
/** Exp-Golomb, unsigned. */
const ue = (n: number) => {
  const code = (n + 1).toString(2);
  return '0'.repeat(code.length - 1) + code;
};

test('an SPS of the High profile gives its chroma format and bit depths', () => {
  assert.deepEqual(parseSps(spsNal(byte(100) + byte(0) + byte(31) + ue(0) + ue(1) + ue(0) + ue(0))), { profile: 100, chromaFormat: 1, bitDepthLuma: 8, bitDepthChroma: 8 });
  assert.deepEqual(parseSps(spsNal(byte(244) + byte(0) + byte(31) + ue(0) + ue(3) + '0' + ue(2) + ue(2))), { profile: 244, chromaFormat: 3, bitDepthLuma: 10, bitDepthChroma: 10 });
});

test('an SPS of Baseline or Main is 4:2:0 at 8 bits without saying so', () => {
  assert.deepEqual(parseSps(spsNal(byte(66) + byte(0xc0) + byte(30) + ue(0))), { profile: 66, chromaFormat: 1, bitDepthLuma: 8, bitDepthChroma: 8 });
  assert.deepEqual(parseSps(spsNal(byte(77) + byte(0x40) + byte(30) + ue(0))), { profile: 77, chromaFormat: 1, bitDepthLuma: 8, bitDepthChroma: 8 });
});

test('emulation-prevention bytes are taken out before the bits are read', () => {
  // Level 0 and an SPS id whose code starts with seven zeros: the RBSP holds 00 00 01, sent as 00 00 03 01.
  const nal = spsNal(byte(100) + byte(0) + byte(0) + ue(200) + ue(2) + ue(1) + ue(0));
  assert.ok(nal.includes(Buffer.from([0, 0, 3])), nal.toString('hex'));
  assert.deepEqual(parseSps(nal), { profile: 100, chromaFormat: 2, bitDepthLuma: 9, bitDepthChroma: 8 });
});

test('an SPS cut short, and boxes that overrun their parent, are parse errors', () => {
  assert.throws(() => parseSps(Buffer.from([0x67, 100, 0])), Mp4ParseError);
  const box = (type: string, content: Buffer, claimed?: number) => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(claimed ?? content.length + 8);
    head.write(type, 4, 'latin1');
    return Buffer.concat([head, content]);
  };
  assert.throws(() => parseMoov(box('mvhd', Buffer.alloc(100), 200)), /mvhd at 0 claims 200 bytes/);
  assert.throws(() => parseMoov(box('trak', Buffer.alloc(0))), /no mvhd box in moov/);
  const mvhd = box('mvhd', Buffer.concat([Buffer.alloc(12), Buffer.from([0, 0, 0x03, 0xe8, 0, 0, 0x27, 0x10]), Buffer.alloc(80)]));
  assert.deepEqual(parseMoov(mvhd), { timescale: 1000, duration: 10_000, tracks: [] });
  assert.throws(() => parseMoov(Buffer.concat([mvhd, box('trak', Buffer.alloc(0))])), /no mdia box in trak/);
});
