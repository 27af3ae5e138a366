/** Descriptors are stored as 128 little-endian float32 (512 bytes). */
export function encodeDescriptor(d: ArrayLike<number>): Buffer {
  const buf = Buffer.alloc(d.length * 4);
  for (let i = 0; i < d.length; i++) buf.writeFloatLE(d[i]!, i * 4);
  return buf;
}

export function decodeDescriptor(buf: Uint8Array): Float32Array {
  if (buf.length % 4 !== 0) throw new Error(`descriptor of ${buf.length} bytes is not a float32 array`);
  const view = Buffer.from(buf.buffer, buf.byteOffset, buf.length);
  const out = new Float32Array(buf.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.readFloatLE(i * 4);
  return out;
}

/** Landmarks as (x, y) float32 pairs, the same little-endian layout. */
export function encodeLandmarks(points: readonly { x: number; y: number }[]): Buffer {
  return encodeDescriptor(points.flatMap((p) => [p.x, p.y]));
}

export function decodeLandmarks(buf: Uint8Array): { x: number; y: number }[] {
  const v = decodeDescriptor(buf);
  const out: { x: number; y: number }[] = [];
  for (let i = 0; i + 1 < v.length; i += 2) out.push({ x: v[i]!, y: v[i + 1]! });
  return out;
}
