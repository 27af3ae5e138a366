import sharp from 'sharp';
import { loadConfig } from '../../shared/config/config.ts';
import { decideEnrolment } from '../../shared/face/enrolment.ts';
import { FaceEngine } from '../../shared/face/engine.ts';
import type { Box } from '../../shared/face/geometry.ts';
import { cropFace, samplePhoto } from '../helpers/face-images.ts';

async function sampleFaces(): Promise<{ photo: Buffer; box: Box }[]> {
  const { engine } = await engineOnce();
  const out: { photo: Buffer; box: Box }[] = [];
  for (const n of [1, 2, 3, 4, 5, 6] as const) {
    const photo = samplePhoto(n);
    for (const f of (await engine.analyze(photo)).faces) out.push({ photo, box: f.box });
  }
  return out;
}

/** Enrolment-style photos: every face of the six sample photos, cropped with a margin. */
export async function enrolmentPhotos(): Promise<Buffer[]> {
  return Promise.all((await sampleFaces()).map((f) => cropFace(f.photo, f.box, 0.5)));
}

let loaded: ReturnType<typeof FaceEngine.load> | undefined;
const engineOnce = () => (loaded ??= FaceEngine.load('auto'));

/**
 * Per face of the sample photos whose enrolment crop passes the enrolment gate: its enrolment crop, and webcam-style snapshots of the same
 * face (other framings and light, on a 640×480 canvas), so that a run of them reads as a
 * live face and not as a photo held to the camera.
 */
export async function streamingSet(): Promise<{ enrolments: Buffer[]; snapshots: Buffer[][] }> {
  const faces = await sampleFaces();
  const webcam = (img: Buffer, light = 0) =>
    sharp(img)
      .resize({ width: 640, height: 480, fit: 'contain', background: { r: 96, g: 96, b: 96 } })
      .linear(1, light)
      .jpeg({ quality: 85 })
      .toBuffer();
  const enrolments: Buffer[] = [];
  const snapshots: Buffer[][] = [];
  const { engine } = await engineOnce();
  const bounds = loadConfig({}).face.quality;
  for (const { photo, box } of faces) {
    const enrolment = await cropFace(photo, box, 0.5);
    // Employees without a usable enrolment are answered without any face work.
    if (decideEnrolment(await engine.analyze(enrolment), bounds).result !== 'SUCCESS') continue;
    enrolments.push(enrolment);
    snapshots.push([
      await webcam(await cropFace(photo, box, 1.0)),
      await webcam(await cropFace(photo, { ...box, x: box.x + box.width * 0.1 }, 1.2), 12),
      await webcam(await cropFace(photo, box, 1.5), -10),
      await webcam(await cropFace(photo, { ...box, y: box.y - box.height * 0.1 }, 1.1), 6),
    ]);
  }
  return { enrolments, snapshots };
}
