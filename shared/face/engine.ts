import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as Tfjs from '@tensorflow/tfjs';
import type { FaceBackend, FaceBackendChoice } from './backends.ts';
import { decodeImage, type DecodeOptions } from './decode.ts';
import { estimatePose, scaleBox, scalePoints, type Box, type Point } from './geometry.ts';
import { LOOK_CANVAS, boxFromLook, clipBox, confirmingDetection, cropBox, lookAround, lookAtAll, lookIsPadded, pointsFromLook, suppressOverlaps, type Look } from './looks.ts';
import { installFusedSsd, type SsdNet } from './fused-ssd.ts';
import { restoreUtilForTfjsNode } from './node-util-compat.ts';
import { QUALITY_REGION_SIZE, brightness, resampleRegion, sharpness, toGray, type FaceQuality } from './quality.ts';

const require = createRequire(import.meta.url);

export { FACE_BACKENDS, type FaceBackend, type FaceBackendChoice } from './backends.ts';

export interface AnalyzedFace {
  /** In the original (upright) image's pixels. */
  box: Box;
  score: number;
  landmarks: Point[];
  descriptor: Float32Array;
  quality: FaceQuality;
}

export interface FaceAnalysis {
  width: number;
  height: number;
  faces: AnalyzedFace[];
  /** A face kept was found on a canvas reaching past the image (a tightly cropped head shot). */
  padded: boolean;
  /** Detector passes after the first (second looks and padded retries): bounded per image. */
  looks: number;
  backend: FaceBackend;
  /** Live tensors after the analysis: flat over time, or memory leaks. */
  numTensors: number;
  /**
   * The wasm backend's heap, in bytes: WebAssembly memory grows to the largest tensors seen
   * and never shrinks, so the pool replaces a thread whose heap a burst of large images grew.
   * 0 on the other backends.
   */
  heapBytes: number;
  ms: number;
}

export interface AnalyzeOptions extends DecodeOptions {
  /** Detector confidence below which a face is not counted. @default 0.5 */
  minConfidence?: number;
  /**
   * First-pass detections from this confidence up are candidates for a second look, so a
   * face the whole-frame pass barely sees (small in a wide frame) is not lost. @default 0.3
   */
  candidateConfidence?: number;
  /** A first-pass detection below this gets a second look on a region around it. @default 0.9 */
  doubtfulScore?: number;
  /** Second looks around doubtful detections, per image, most confident first. @default 3 */
  maxSecondLooks?: number;
  /** A second look's region: this × the detection's larger side, so the face is ~45% of it. @default 2.2 */
  lookFactor?: number;
  /** Only detections smaller than this share of the image's longer side, or touching its border, get a look. @default 0.4 */
  lookBelowShare?: number;
  /** When nothing is found, look again at the whole image with a neutral margin (tight head shots). @default true */
  paddedRetry?: boolean;
  /**
   * Faces beside the most confident one count only from this confidence up. Measured on
   * the real photos: the detector's weak second boxes (0.54–0.72) are shoulders and
   * clothing, which made single-person photos MULTIPLE_FACES; a second person in the
   * picture scores far higher. @default 0.8
   */
  minSecondaryScore?: number;
}

export interface EngineInfo {
  backend: FaceBackend;
  faceApiVersion: string;
  tfjsVersion: string;
  /** Stored with each descriptor, so a later model change is detectable. */
  model: string;
  /** The detector runs the fused forward pass (`fused-ssd.ts`), or face-api's own and why. */
  detector: 'fused' | `face-api (${string})`;
}

/* The parts of TensorFlow.js and face-api this engine uses, typed narrowly. */
interface Tensor {
  dispose(): void;
}
interface Tf {
  tensor3d(values: Uint8Array, shape: [number, number, number], dtype: 'int32'): Tensor;
  tidy<T extends Tensor>(fn: () => T): T;
  cast(t: Tensor, dtype: 'float32'): Tensor;
  expandDims(t: Tensor, axis: number): Tensor;
  squeeze(t: Tensor, axes: number[]): Tensor;
  image: {
    cropAndResize(image: Tensor, boxes: number[][], boxInd: number[], cropSize: [number, number], method: 'bilinear', extrapolationValue: number): Tensor;
  };
  setBackend(name: string): Promise<boolean>;
  ready(): Promise<void>;
  getBackend(): string;
  memory(): { numTensors: number };
  backend(): unknown;
  version_core: string;
}
interface FaceApiResult {
  detection: { box: Box; score: number };
  landmarks: { positions: Point[] };
  descriptor: Float32Array;
}
interface FaceApiDetection {
  box: Box;
  score: number;
}
interface FaceApi {
  version: string;
  tf: Tf;
  nets: Record<'ssdMobilenetv1' | 'faceLandmark68Net' | 'faceRecognitionNet', { loadFromDisk(dir: string): Promise<void> }> & { ssdMobilenetv1: SsdNet };
  SsdMobilenetv1Options: new (o: { minConfidence: number; maxResults: number }) => unknown;
  /** Thenable: detection alone. */
  detectAllFaces(input: Tensor, options: unknown): PromiseLike<FaceApiDetection[]>;
  extendWithFaceDetection(source: object, detection: FaceApiDetection): { detection: FaceApiDetection };
  /** Landmarks (then descriptors) for detections already made: face-api's own task, fed our choice. */
  DetectAllFaceLandmarksTask: new (
    parent: Promise<{ detection: FaceApiDetection }[]>,
    input: Tensor,
    useTinyLandmarkNet: boolean,
  ) => { withFaceDescriptors(): Promise<FaceApiResult[]> };
}

function loadFaceApi(backend: FaceBackend): { faceapi: FaceApi; tf: Tf } {
  if (backend === 'tensorflow') {
    // Native libtensorflow; its npm install downloads the library, so it is optional.
    restoreUtilForTfjsNode();
    const tf = require('@tensorflow/tfjs-node') as Tf;
    return { faceapi: require('@vladmandic/face-api/dist/face-api.node.js') as FaceApi, tf };
  }
  const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js') as FaceApi;
  return { faceapi, tf: faceapi.tf };
}

async function activate(backend: FaceBackend, tf: Tf): Promise<void> {
  if (backend === 'wasm') {
    const wasm = require('@tensorflow/tfjs-backend-wasm') as { setWasmPaths(p: string): void; setThreadsCount?(n: number): void };
    // The .wasm files come from node_modules, never a CDN.
    wasm.setWasmPaths(`${dirname(require.resolve('@tensorflow/tfjs-backend-wasm'))}/`);
    // One thread per engine: parallelism comes from the worker pool, one engine per core.
    wasm.setThreadsCount?.(1);
  }
  if (backend !== 'tensorflow' && !(await tf.setBackend(backend))) throw new Error(`TensorFlow.js backend ${backend} did not initialise`);
  await tf.ready();
}

const MODEL_DIR = join(dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
/** The model files the engine loads (detector, landmarks, descriptor), as face-api ships them. */
const MODEL_FILES = ['ssd_mobilenetv1_model', 'face_landmark_68_model', 'face_recognition_model'].flatMap((m) => [`${m}-weights_manifest.json`, `${m}.bin`]);

/** Where the engine reads its models from, and which files it needs there. */
export function modelFiles(): { dir: string; files: string[] } {
  return { dir: MODEL_DIR, files: [...MODEL_FILES] };
}

/**
 * SSD MobileNet v1 detection, 68-point landmarks and 128-d descriptors with face-api on
 * TensorFlow.js, models from the files the npm package ships. One engine per thread.
 */
export class FaceEngine {
  private readonly faceapi: FaceApi;
  private readonly tf: Tf;
  readonly info: EngineInfo;

  private constructor(
    faceapi: FaceApi,
    tf: Tf,
    info: EngineInfo,
  ) {
    this.faceapi = faceapi;
    this.tf = tf;
    this.info = info;
  }

  /** `auto` tries the native backend, then wasm, then cpu; `attempts` says why each failed. */
  static async load(choice: FaceBackendChoice): Promise<{ engine: FaceEngine; attempts: string[] }> {
    const order: FaceBackend[] = choice === 'auto' ? ['tensorflow', 'wasm', 'cpu'] : [choice];
    const attempts: string[] = [];
    for (const backend of order) {
      try {
        const { faceapi, tf } = loadFaceApi(backend);
        await activate(backend, tf);
        for (const net of ['ssdMobilenetv1', 'faceLandmark68Net', 'faceRecognitionNet'] as const) await faceapi.nets[net].loadFromDisk(MODEL_DIR);
        const info: EngineInfo = {
          backend,
          faceApiVersion: faceapi.version,
          tfjsVersion: tf.version_core,
          model: `@vladmandic/face-api@${faceapi.version}/faceRecognitionNet`,
          detector: fuseDetector(faceapi, tf),
        };
        return { engine: new FaceEngine(faceapi, tf, info), attempts };
      } catch (err) {
        attempts.push(`${backend}: ${(err as Error).message.split('\n')[0]}`);
      }
    }
    throw new Error(`no TensorFlow.js backend could be loaded (${attempts.join('; ')})`);
  }

  /** The wasm backend's memory, or 0 (other backends manage theirs outside this thread's view). */
  heapBytes(): number {
    const backend = this.tf.backend() as { wasm?: { HEAPU8?: Uint8Array } } | undefined;
    return backend?.wasm?.HEAPU8?.buffer.byteLength ?? 0;
  }

  /** One pass over a small image compiles the kernels before the first real job. */
  async warmUp(): Promise<void> {
    const { default: sharp } = await import('sharp');
    const png = await sharp({ create: { width: 160, height: 160, channels: 3, background: { r: 120, g: 110, b: 100 } } }).png().toBuffer();
    await this.analyze(png, { paddedRetry: false });
  }

  async analyze(bytes: Uint8Array, opts: AnalyzeOptions = {}): Promise<FaceAnalysis> {
    const t0 = performance.now();
    const img = await decodeImage(bytes, opts);
    const scale = img.originalWidth / img.width;
    const input = this.tf.tensor3d(img.rgb, [img.height, img.width, 3], 'int32');
    const canvases: Tensor[] = [];
    let found: Found[];
    try {
      found = await this.detectFaces(input, img.width, img.height, canvases, opts);
      // Landmarks and descriptors once per canvas, for the detections kept on it.
      for (const canvas of new Set(found.map((f) => f.canvas))) {
        const mine = found.filter((f) => f.canvas === canvas);
        const sources = mine.map((f) => this.faceapi.extendWithFaceDetection({}, f.detection));
        const results = await new this.faceapi.DetectAllFaceLandmarksTask(Promise.resolve(sources), canvas, false).withFaceDescriptors();
        results.forEach((r, i) => (mine[i]!.result = r));
      }
    } finally {
      input.dispose();
      for (const c of canvases) c.dispose();
    }

    const gray = toGray(img.rgb, img.width, img.height);
    const faces = found.map((f): AnalyzedFace => {
      const r = f.result!;
      const box = clipBox(f.box, img.width, img.height);
      const points = f.look ? pointsFromLook(r.landmarks.positions, f.look) : r.landmarks.positions.map((p) => ({ x: p.x, y: p.y }));
      const region = resampleRegion(gray, box, QUALITY_REGION_SIZE);
      const original = scaleBox(box, scale);
      const landmarks = scalePoints(points, scale);
      return {
        box: original,
        score: r.detection.score,
        landmarks,
        descriptor: Float32Array.from(r.descriptor),
        quality: {
          sizePx: Math.min(original.width, original.height),
          score: r.detection.score,
          brightness: brightness(region),
          sharpness: sharpness(region, QUALITY_REGION_SIZE),
          pose: estimatePose(landmarks),
        },
      };
    });
    return {
      width: img.originalWidth,
      height: img.originalHeight,
      faces,
      padded: found.some((f) => f.look !== undefined && lookIsPadded(f.look, img.width, img.height)),
      looks: canvases.length,
      backend: this.info.backend,
      numTensors: this.tf.memory().numTensors,
      heapBytes: this.heapBytes(),
      ms: Math.round(performance.now() - t0),
    };
  }

  /**
   * The first pass over the whole image, then second looks only where it is doubtful: a
   * region around each low-confidence detection (it is kept only if the look confirms it,
   * with the look's box and score), and the whole image with a margin when nothing is found.
   * Every canvas made is pushed to `canvases` for the caller to dispose.
   */
  private async detectFaces(input: Tensor, width: number, height: number, canvases: Tensor[], opts: AnalyzeOptions): Promise<Found[]> {
    const minConfidence = opts.minConfidence ?? 0.5;
    const doubtfulScore = opts.doubtfulScore ?? 0.9;
    const lookFactor = opts.lookFactor ?? 2.2;
    const detect = (t: Tensor, min: number) => this.faceapi.detectAllFaces(t, new this.faceapi.SsdMobilenetv1Options({ minConfidence: min, maxResults: 50 }));
    const first = await detect(input, Math.min(minConfidence, opts.candidateConfidence ?? 0.3));
    const anyCounted = first.some((d) => d.score >= minConfidence);
    const largest = Math.max(width, height);
    const lookBelowShare = opts.lookBelowShare ?? 0.4;
    // A look helps a face that is small in the frame or cut by its border; around a face that
    // already fills much of the image it shows the detector nearly what it saw. Candidates
    // under the floor are only chased when nothing reached it.
    const doubtful = first
      .filter((d) => d.score < doubtfulScore && (d.score >= minConfidence || !anyCounted))
      .filter((d) => Math.max(d.box.width, d.box.height) < lookBelowShare * largest || touchesBorder(d.box, width, height))
      .sort((a, b) => b.score - a.score);
    const looked = doubtful.slice(0, opts.maxSecondLooks ?? 3);
    const found: Found[] = first.filter((d) => !looked.includes(d) && d.score >= minConfidence).map((detection) => ({ detection, canvas: input, box: detection.box, score: detection.score }));
    let floatInput: Tensor | undefined;
    const render = (look: Look) => {
      floatInput ??= this.tf.tidy(() => this.tf.expandDims(this.tf.cast(input, 'float32'), 0));
      const canvas = this.tf.tidy(() =>
        this.tf.squeeze(this.tf.image.cropAndResize(floatInput!, [cropBox(look, width, height)], [0], [LOOK_CANVAS, LOOK_CANVAS], 'bilinear', 128), [0]),
      );
      canvases.push(canvas);
      return canvas;
    };
    try {
      for (const d of looked) {
        const look = lookAround(d.box, lookFactor);
        const canvas = render(look);
        const confirmed = confirmingDetection(await detect(canvas, minConfidence), look, d.box);
        if (confirmed) found.push({ detection: confirmed, canvas, look, box: boxFromLook(confirmed.box, look), score: confirmed.score });
      }
      if (found.length === 0 && (opts.paddedRetry ?? true)) {
        // Detectors miss faces that fill the frame or touch its border (ID-badge crops).
        const look = lookAtAll(width, height, 1.8);
        const canvas = render(look);
        for (const detection of await detect(canvas, minConfidence)) found.push({ detection, canvas, look, box: boxFromLook(detection.box, look), score: detection.score });
      }
    } finally {
      floatInput?.dispose();
    }
    // Two candidates confirmed as the same face, or a look that also saw a neighbour.
    const faces = suppressOverlaps(found);
    const minSecondaryScore = opts.minSecondaryScore ?? 0.8;
    return faces.filter((f, i) => i === 0 || f.score >= minSecondaryScore);
  }
}

interface Found {
  detection: FaceApiDetection;
  /** The tensor it was found on: the input, or a second look's canvas. */
  canvas: Tensor;
  look?: Look;
  /** Its box in the (decoded) image's pixels, not clipped. */
  box: Box;
  score: number;
  result?: FaceApiResult;
}

/** The same detector, faster (see fused-ssd.ts); face-api's own pass when fusing is not safe. */
function fuseDetector(faceapi: FaceApi, tf: Tf): EngineInfo['detector'] {
  try {
    // The narrow `Tf` above is this same module object; the fused pass needs its full API.
    const { installed, maxDifference } = installFusedSsd(tf as unknown as typeof Tfjs, faceapi.nets.ssdMobilenetv1);
    return installed ? 'fused' : `face-api (fused pass differs by ${maxDifference.toExponential(1)})`;
  } catch (err) {
    return `face-api (${(err as Error).message})`;
  }
}

/** Within 2% of the image's edge: the border may cut the face. */
function touchesBorder(b: Box, width: number, height: number): boolean {
  const mx = width * 0.02;
  const my = height * 0.02;
  return b.x < mx || b.y < my || b.x + b.width > width - mx || b.y + b.height > height - my;
}
