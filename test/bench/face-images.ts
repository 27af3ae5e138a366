import { FaceEngine } from '../../shared/face/engine.ts';
import { cropFace, samplePhoto } from '../helpers/face-images.ts';

/** Enrolment-style photos: every face of the six sample photos, cropped with a margin. */
export async function enrolmentPhotos(): Promise<Buffer[]> {
  const { engine } = await FaceEngine.load('auto');
  const out: Buffer[] = [];
  for (const n of [1, 2, 3, 4, 5, 6] as const) {
    const photo = samplePhoto(n);
    for (const f of (await engine.analyze(photo)).faces) out.push(await cropFace(photo, f.box, 0.5));
  }
  return out;
}
