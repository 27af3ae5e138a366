// The service's engine on one thread, without the service: the same photos as the plain
// loop, through `FaceEngine.analyze` (decode, fused detector, second look on tight crops,
// landmarks, descriptors, quality measures). Shows how much of the service's lead is the
// engine and how much is the worker pool. Prints {"rate","images","backend","detector"}.
import { FaceEngine } from '../../shared/face/engine.ts';
import { enrolmentPhotos } from './face-images.ts';

const n = Number(process.argv[2] ?? 200);
const photos = await enrolmentPhotos();
const { engine } = await FaceEngine.load('wasm');
await engine.warmUp();
await engine.analyze(photos[0]!);
const t0 = performance.now();
const c0 = process.cpuUsage();
for (let i = 0; i < n; i++) await engine.analyze(photos[i % photos.length]!);
const cpu = process.cpuUsage(c0);
const seconds = (performance.now() - t0) / 1000;
console.log(JSON.stringify({ rate: n / seconds, images: n, backend: engine.info.backend, detector: engine.info.detector, cpuMsPerStep: (cpu.user + cpu.system) / 1000 / Math.max(1, n) }));
