/**
 * The face measures as people read them: a name and a value with its unit, in place of the
 * stored field names and raw JSON (`sizePx`, `{"yaw":3.5,…}`). Unknown fields are shown
 * too, their name split into words, so a measure added later is not hidden.
 */
export interface Label {
  name: string;
  value: string;
}

const DEGREES = new Set(['yaw', 'pitch', 'roll']);

const num = (v: number, digits: number): string => (Number.isFinite(v) ? v.toFixed(digits) : '—');
const degrees = (v: unknown): string => (typeof v === 'number' ? `${num(v, 1)}°` : '—');

/** `sizePx` → `size px`, `face_size` → `face size`. */
const words = (key: string): string => key.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/_/g, ' ').toLowerCase();

function labelOf(key: string, v: unknown): Label[] {
  if (key === 'pose' && v !== null && typeof v === 'object' && !Array.isArray(v)) {
    const p = v as Record<string, unknown>;
    return ['yaw', 'pitch', 'roll'].filter((k) => k in p).map((k) => ({ name: k, value: degrees(p[k]) }));
  }
  if (typeof v === 'number') {
    if (key === 'sizePx') return [{ name: 'face size', value: `${Math.round(v)} px` }];
    if (key === 'brightness') return [{ name: 'brightness', value: `${Math.round(v)} of 255` }];
    if (key === 'sharpness') return [{ name: 'sharpness', value: num(v, 2) }];
    if (key === 'score') return [{ name: 'detection confidence', value: num(v, 3) }];
    if (DEGREES.has(key)) return [{ name: key, value: degrees(v) }];
    return [{ name: words(key), value: num(v, 3) }];
  }
  if (typeof v === 'string' || typeof v === 'boolean') return [{ name: words(key), value: String(v) }];
  return [{ name: words(key), value: JSON.stringify(v) ?? '—' }];
}

/** A face's quality measures (`stream_face.quality`, facetraining's `faces[].quality`), labelled. */
export function qualityLabels(quality: Record<string, unknown> | null | undefined): Label[] {
  return Object.entries(quality ?? {}).flatMap(([k, v]) => labelOf(k, v));
}

const CHECK: Record<string, string> = {
  face_size: 'face too small', score: 'face detected with too little confidence', brightness: 'brightness out of range',
  sharpness: 'face blurred', yaw: 'head turned sideways', pitch: 'head tilted up or down', roll: 'head leaning',
};

/**
 * A LOW_QUALITY reason from facetraining's attempt detail (`reasons[]`, shared/face/quality.ts
 * `QualityReason`): its own sentence when it has one, else the check and value in words.
 */
export function reasonLabel(reason: unknown): string {
  if (reason === null || typeof reason !== 'object') return typeof reason === 'string' ? reason : 'unknown reason';
  const r = reason as Record<string, unknown>;
  if (typeof r.message === 'string' && r.message !== '') return r.message;
  const check = typeof r.check === 'string' ? r.check : 'unknown check';
  const value = typeof r.value === 'number' ? ` (${num(r.value, 2)}${typeof r.min === 'number' ? `, at least ${r.min}` : ''}${typeof r.max === 'number' ? `, at most ${r.max}` : ''})` : '';
  return `${CHECK[check] ?? words(check)}${value}`;
}
