import sharp from 'sharp';
import { PermanentError } from '../errors.ts';
import { uprightSize } from './face-crop.ts';
import { cropRegion } from './face-export-format.ts';
import type { FaceBox } from '../../db/repositories/face-export.repository.ts';

/** Room left around the face on each side, as a share of its box: the surround the detector expects of a face. */
const MARGIN = 0.6;

/**
 * The image an approved snapshot face is enrolled from. A snapshot with one face goes as it
 * is; with several, only the chosen face with its surround, so facetraining's one-face rule
 * judges the face the supervisor meant and not the person beside it.
 */
export async function imageOfFace(image: Buffer, faces: { faceIndex: number; box: FaceBox | null }[], faceIndex: number): Promise<Buffer> {
  if (faces.length <= 1) return image;
  const box = faces.find((f) => f.faceIndex === faceIndex)?.box;
  if (!box) throw new PermanentError('FACE_BOX_UNKNOWN', `the snapshot shows ${faces.length} faces and the position of face ${faceIndex} was not kept, so it cannot be cut out (FACE_BOX_UNKNOWN)`);
  const upright = uprightSize(await sharp(image).metadata());
  const region = upright && cropRegion(box, upright.width, upright.height, MARGIN);
  if (!region) throw new PermanentError('FACE_BOX_OUTSIDE', `face ${faceIndex}'s box lies outside the ${upright?.width ?? 0}×${upright?.height ?? 0} image (FACE_BOX_OUTSIDE)`);
  return sharp(image).rotate().extract(region).jpeg({ quality: 95 }).toBuffer();
}
