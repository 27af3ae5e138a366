import sharp from 'sharp';
import { PermanentError } from '../errors.ts';

type Box = { x: number; y: number; width: number; height: number };

/** Room left around the face on each side, as a share of its box: the surround the detector expects of a face. */
const MARGIN = 0.6;

/**
 * The image an approved snapshot face is enrolled from. A snapshot with one face goes as it
 * is; with several, only the chosen face with its surround, so facetraining's one-face rule
 * judges the face the supervisor meant and not the person beside it.
 */
export async function imageOfFace(image: Buffer, faces: { faceIndex: number; box: Box | null }[], faceIndex: number): Promise<Buffer> {
  if (faces.length <= 1) return image;
  const box = faces.find((f) => f.faceIndex === faceIndex)?.box;
  if (!box) throw new PermanentError('FACE_BOX_UNKNOWN', `the snapshot shows ${faces.length} faces and the position of face ${faceIndex} was not kept, so it cannot be cut out (FACE_BOX_UNKNOWN)`);
  const meta = await sharp(image).metadata();
  // Boxes are in the upright image's pixels: EXIF orientations 5-8 swap the sides.
  const turned = (meta.orientation ?? 1) >= 5;
  const W = (turned ? meta.height : meta.width) ?? 0;
  const H = (turned ? meta.width : meta.height) ?? 0;
  const left = Math.max(0, Math.floor(box.x - MARGIN * box.width));
  const top = Math.max(0, Math.floor(box.y - MARGIN * box.height));
  const right = Math.min(W, Math.ceil(box.x + (1 + MARGIN) * box.width));
  const bottom = Math.min(H, Math.ceil(box.y + (1 + MARGIN) * box.height));
  if (right - left < 1 || bottom - top < 1) throw new PermanentError('FACE_BOX_OUTSIDE', `face ${faceIndex}'s box lies outside the ${W}×${H} image (FACE_BOX_OUTSIDE)`);
  return sharp(image).rotate().extract({ left, top, width: right - left, height: bottom - top }).jpeg({ quality: 95 }).toBuffer();
}
