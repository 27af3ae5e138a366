import type { ExportFace, ExportSnapshot, FaceBox } from '../../db/repositories/face-export.repository.ts';

/**
 * What one face (or one snapshot without faces) becomes in the face export: a `faces.csv`
 * line, a `faces.jsonl` line, and the crop's name and region. Pure: the zip writer
 * (`face-export.ts`) and its tests call it.
 */

/** Margin added on each side of the face box, as a fraction of its size (the crop shows the head, not just the face). */
export const CROP_MARGIN = 0.25;

export const CSV_COLUMNS = [
  'snapshot_id', 'face_index', 'lan_id', 'capture_time', 'box_x', 'box_y', 'box_width', 'box_height', 'score', 'result', 'distance', 'crop',
] as const;

export const CSV_HEADER = `${CSV_COLUMNS.join(',')}\r\n`;

/** A face's crop in the archive. */
export function cropName(snapshotId: number, faceIndex: number): string {
  return `faces/${snapshotId}-${faceIndex}.jpg`;
}

/** The box grown by `margin` of its size on each side, in whole pixels, inside the image; undefined when nothing of it is. */
export function cropRegion(box: FaceBox, imageWidth: number, imageHeight: number, margin = CROP_MARGIN): { left: number; top: number; width: number; height: number } | undefined {
  const left = Math.max(0, Math.floor(box.x - box.width * margin));
  const top = Math.max(0, Math.floor(box.y - box.height * margin));
  const right = Math.min(imageWidth, Math.ceil(box.x + box.width * (1 + margin)));
  const bottom = Math.min(imageHeight, Math.ceil(box.y + box.height * (1 + margin)));
  if (right <= left || bottom <= top) return undefined;
  return { left, top, width: right - left, height: bottom - top };
}

/**
 * One CSV line (RFC 4180, CRLF). `face` is null for a snapshot without faces; `crop` is
 * null when there is no crop (no face, no image bytes left, an undecodable image).
 */
export function csvLine(s: ExportSnapshot, face: ExportFace | null, crop: string | null): string {
  const b = face?.box;
  const fields = [s.id, face?.index ?? null, s.lanId, s.captureTime.toISOString(), b?.x ?? null, b?.y ?? null, b?.width ?? null, b?.height ?? null, face?.score ?? null, s.result, s.distance, crop];
  return `${fields.map(csvField).join(',')}\r\n`;
}

/** One JSON Lines line: everything the CSV has and the landmarks, quality, accuracy and model. */
export function jsonLine(s: ExportSnapshot, face: ExportFace | null, crop: string | null): string {
  return `${JSON.stringify({
    snapshotId: s.id,
    faceIndex: face?.index ?? null,
    lanId: s.lanId,
    captureTime: s.captureTime.toISOString(),
    box: face?.box ?? null,
    landmarks: face?.landmarks ?? null,
    score: face?.score ?? null,
    quality: face?.quality ?? null,
    result: s.result,
    distance: s.distance,
    accuracy: s.accuracy,
    model: face?.model ?? null,
    crop,
  })}\n`;
}

/**
 * A CSV field. Text that a spreadsheet would run as a formula (starting with `=`, `+`,
 * `-`, `@`, a tab or a carriage return: a lan_id is whatever a producer sent) gets a
 * leading `'`, OWASP's advice against CSV injection; then a field with a comma, quote or
 * line break is quoted, its quotes doubled. Numbers are written as they are.
 */
export function csvField(value: string | number | null): string {
  if (value === null) return '';
  if (typeof value === 'number') return String(value);
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
