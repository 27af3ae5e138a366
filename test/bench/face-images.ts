import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { loadConfig } from '../../services/config.ts';
import { decideEnrolment } from '../../shared/face/enrolment.ts';
import { FaceEngine } from '../../shared/face/engine.ts';
import type { Box } from '../../shared/face/geometry.ts';
import { cropFace, samplePhoto } from '../helpers/face-images.ts';
import { WEBCAM_DIR, webcamStills } from '../helpers/webcam-stills.ts';

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

/** The real photos in `../shared/faces/deepface` (benchmarks only: a plain clone has no such folder). */
export const LARGE_PHOTOS_DIR = fileURLToPath(new URL('../../../shared/faces/deepface/', import.meta.url));

/** The size range of the large-photo rows (issue 13: real JPEGs of 0.6–3.3 MP). */
export const LARGE_MEGAPIXELS = { min: 0.6, max: 3.3 };

/**
 * The large real photos of the folder (JPEGs of LARGE_MEGAPIXELS: portraits and group
 * shots), by file name, or undefined when the folder is absent.
 */
export async function largePhotos(): Promise<{ name: string; bytes: Buffer }[] | undefined> {
  if (!existsSync(LARGE_PHOTOS_DIR)) return undefined;
  const all = readdirSync(LARGE_PHOTOS_DIR)
    .filter((f) => f.toLowerCase().endsWith('.jpg'))
    .sort()
    .map((name) => ({ name, bytes: readFileSync(`${LARGE_PHOTOS_DIR}${name}`) }));
  const sized = await Promise.all(all.map(async (p) => ({ p, mp: await megapixelsOf(p.bytes) })));
  return sized.filter(({ mp }) => mp >= LARGE_MEGAPIXELS.min && mp <= LARGE_MEGAPIXELS.max).map(({ p }) => p);
}

async function megapixelsOf(bytes: Buffer): Promise<number> {
  const m = await sharp(bytes).metadata();
  return (m.width! * m.height!) / 1e6;
}

/**
 * Per large photo, the photo to enrol its employee with: another photo of the same person
 * (identities.csv), else the photo itself (the group photos).
 */
export function largeEnrolments(photos: { name: string; bytes: Buffer }[]): Buffer[] {
  const identity = new Map(
    readFileSync(`${LARGE_PHOTOS_DIR}identities.csv`, 'utf8')
      .trim()
      .split(/\r?\n/)
      .slice(1)
      .map((line) => line.split(',') as [string, string]),
  );
  return photos.map((p) => {
    const mate = photos.find((o) => o.name !== p.name && identity.has(p.name) && identity.get(o.name) === identity.get(p.name));
    return (mate ?? p).bytes;
  });
}

export async function megapixels(photos: { bytes: Buffer }[]): Promise<string> {
  const mp = await Promise.all(photos.map((p) => megapixelsOf(p.bytes)));
  return `${Math.min(...mp).toFixed(1)}–${Math.max(...mp).toFixed(1)}`;
}

export function describeResults(results: string[]): string {
  const by = new Map<string, number>();
  for (const r of results) by.set(r, (by.get(r) ?? 0) + 1);
  return [...by].map(([k, v]) => `${k} ${v}`).join(', ');
}

/**
 * Real webcam snapshots queued as a few employees' backlogs (issue 25's check: two
 * employees, 60 and 23 snapshots): for each of the people with the most clips, the stills
 * of their first clip are the enrolment candidates (the first the gate accepts is enrolled)
 * and the stills of their other clips, cycled, the backlog. Stills as `webcamStills` cuts them (640×480 JPEG). Undefined when the clips
 * are absent.
 */
export async function webcamBacklogs(sizes: number[]): Promise<{ people: string[]; enrolments: Buffer[][]; backlogs: Buffer[][] } | undefined> {
  const cut = await webcamStills(WEBCAM_DIR, 4);
  if (!cut) return undefined;
  const byPerson = new Map<string, typeof cut.stills>();
  for (const s of cut.stills) byPerson.set(s.person, [...(byPerson.get(s.person) ?? []), s]);
  const people = [...byPerson.keys()].sort((a, b) => byPerson.get(b)!.length - byPerson.get(a)!.length || a.localeCompare(b)).slice(0, sizes.length);
  if (people.length < sizes.length) throw new Error(`webcam backlogs: ${sizes.length} people wanted, ${people.length} in people.csv`);
  const read = (f: string) => readFileSync(f);
  return {
    people,
    enrolments: people.map((p) => byPerson.get(p)!.filter((s) => s.clip === byPerson.get(p)![0]!.clip).map((s) => read(s.file))),
    backlogs: people.map((p, i) => {
      const stills = byPerson.get(p)!;
      const others = stills.filter((s) => s.clip !== stills[0]!.clip).map((s) => read(s.file));
      return Array.from({ length: sizes[i]! }, (_, k) => others[k % others.length]!);
    }),
  };
}
