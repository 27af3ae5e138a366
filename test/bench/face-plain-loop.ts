// The baselines: a plain single-thread face-api loop, as the face-api demos write it
// (decode, tensor, detect + landmarks + descriptor, dispose), on the wasm backend with one
// thread. Run as its own process; prints {"rate","images","backend"}.
//   enrol <n>   one photo per step
//   verify <n>  the seed's way: encode the enrolment photo and the snapshot, compare
//   large <n>   one photo per step, over the large real photos (../shared/faces/deepface)
//   webcam <n>  the seed's way over real webcam stills: an employee's enrolment still and one
//               of their snapshots encoded per check (the facestreaming bench's backlogs)
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import { enrolmentPhotos, largePhotos, streamingSet, webcamBacklogs } from './face-images.ts';

const require = createRequire(import.meta.url);
const mode = process.argv[2] ?? 'enrol';
const n = Number(process.argv[3] ?? 200);
const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js');
const wasm = require('@tensorflow/tfjs-backend-wasm');
const tf = faceapi.tf;
wasm.setWasmPaths(`${dirname(require.resolve('@tensorflow/tfjs-backend-wasm'))}/`);
wasm.setThreadsCount?.(1);
await tf.setBackend('wasm');
await tf.ready();
const models = join(dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
await faceapi.nets.ssdMobilenetv1.loadFromDisk(models);
await faceapi.nets.faceLandmark68Net.loadFromDisk(models);
await faceapi.nets.faceRecognitionNet.loadFromDisk(models);
const options = new faceapi.SsdMobilenetv1Options({ minConfidence: 0.5 });

async function encode(bytes: Buffer): Promise<{ descriptor: Float32Array }[]> {
  const { data, info } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const tensor = tf.tensor3d(new Uint8Array(data), [info.height, info.width, 3], 'int32');
  try {
    return await faceapi.detectAllFaces(tensor, options).withFaceLandmarks().withFaceDescriptors();
  } finally {
    tensor.dispose();
  }
}

/** The seed's check: encode the enrolment photo and the snapshot, compare every face found. */
async function seedCheck(enrolment: Buffer, snapshot: Buffer): Promise<number[] | undefined> {
  const [known] = await encode(enrolment);
  const probes = await encode(snapshot);
  return known && probes.map((p) => faceapi.euclideanDistance(known.descriptor, p.descriptor));
}

let step: (i: number) => Promise<unknown>;
if (mode === 'verify') {
  const { enrolments, snapshots } = await streamingSet();
  step = (i) => {
    const face = i % enrolments.length;
    return seedCheck(enrolments[face]!, snapshots[face]![Math.floor(i / enrolments.length) % snapshots[face]!.length]!);
  };
} else if (mode === 'webcam') {
  const { enrolments, backlogs } = (await webcamBacklogs(JSON.parse(process.argv[4] ?? '[60,23]')))!;
  const checks = backlogs.flatMap((b, e) => b.map((snapshot) => ({ enrolment: enrolments[e]![0]!, snapshot })));
  step = (i) => seedCheck(checks[i % checks.length]!.enrolment, checks[i % checks.length]!.snapshot);
} else if (mode === 'large') {
  const photos = (await largePhotos())!.map((p) => p.bytes);
  step = (i) => encode(photos[i % photos.length]!);
} else {
  const photos = await enrolmentPhotos();
  step = (i) => encode(photos[i % photos.length]!);
}
// The images come from the engine, which swaps in its fused detector on this same face-api
// module; the baseline is face-api as it ships.
delete faceapi.nets.ssdMobilenetv1.forwardInput;
if (Object.hasOwn(faceapi.nets.ssdMobilenetv1, 'forwardInput')) throw new Error('the plain loop must run face-api’s own detector');
await step(0);
const t0 = performance.now();
const c0 = process.cpuUsage();
for (let i = 0; i < n; i++) await step(i);
const cpu = process.cpuUsage(c0);
const seconds = (performance.now() - t0) / 1000;
// CPU per step (every thread of this process: libvips decodes on its own): what the loop costs whatever else the host runs.
console.log(JSON.stringify({ rate: n / seconds, images: n, backend: tf.getBackend(), cpuMsPerStep: (cpu.user + cpu.system) / 1000 / Math.max(1, n) }));
