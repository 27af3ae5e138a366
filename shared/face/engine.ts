import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as Tfjs from '@tensorflow/tfjs';
import { decodeImage, type DecodeOptions } from './decode.ts';
import { estimatePose, scaleBox, scalePoints, unpadBox, unpadPoints, type Box, type Point } from './geometry.ts';
import { installFusedSsd, type SsdNet } from './fused-ssd.ts';
import { QUALITY_REGION_SIZE, brightness, resampleRegion, sharpness, toGray, type FaceQuality } from './quality.ts';

const require = createRequire(import.meta.url);

/** `FACE_BACKEND`'s values: `auto` tries the native backend, then wasm, then cpu. */
export const FACE_BACKENDS = ['auto', 'tensorflow', 'wasm', 'cpu'] as const;
export type FaceBackendChoice = (typeof FACE_BACKENDS)[number];
export type FaceBackend = Exclude<FaceBackendChoice, 'auto'>;

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
  /** The faces were found only on a padded canvas (a tightly cropped head shot). */
  padded: boolean;
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
  /** Retry on a padded canvas when nothing is found, or a border face scores below `doubtfulScore`. @default true */
  paddedRetry?: boolean;
  /**
   * A face touching the border and scoring below this gets a second look: such boxes are
   * often badly fitted (half background), which skews every quality measure. @default 0.9
   */
  doubtfulScore?: number;
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
  pad(t: Tensor, paddings: [number, number][], constant: number): Tensor;
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
  private constructor(
    private readonly faceapi: FaceApi,
    private readonly tf: Tf,
    readonly info: EngineInfo,
  ) {}

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
    const options = new this.faceapi.SsdMobilenetv1Options({ minConfidence: opts.minConfidence ?? 0.5, maxResults: 50 });
    const input = this.tf.tensor3d(img.rgb, [img.height, img.width, 3], 'int32');
    let padded: Tensor | undefined;
    let results: FaceApiResult[];
    let pad = 0;
    try {
      // Detection first; landmarks and descriptors only once, for the canvas kept.
      let detections = await this.faceapi.detectAllFaces(input, options);
      const doubtfulScore = opts.doubtfulScore ?? 0.9;
      const doubtful = detections.some((d) => d.score < doubtfulScore && touches(d.box, img.width, img.height));
      if ((detections.length === 0 || doubtful) && (opts.paddedRetry ?? true)) {
        // Detectors miss, or badly fit, faces that touch the image border (ID-badge
        // crops): look again with a neutral margin around the picture, keep the better.
        const margin = Math.round(Math.max(img.width, img.height) * 0.4);
        padded = this.tf.pad(input, [[margin, margin], [margin, margin], [0, 0]], 128);
        const again = await this.faceapi.detectAllFaces(padded, options);
        if (again.length > 0 && (detections.length === 0 || bestScore(again) > bestScore(detections))) {
          detections = again;
          pad = margin;
        }
      }
      const sources = detections.map((d) => this.faceapi.extendWithFaceDetection({}, d));
      results = await new this.faceapi.DetectAllFaceLandmarksTask(Promise.resolve(sources), pad ? padded! : input, false).withFaceDescriptors();
    } finally {
      input.dispose();
      padded?.dispose();
    }

    const gray = toGray(img.rgb, img.width, img.height);
    const faces = results.map((r): AnalyzedFace => {
      const box = pad ? unpadBox(r.detection.box, pad, img.width, img.height) : plainBox(r.detection.box);
      const points = pad ? unpadPoints(r.landmarks.positions, pad) : r.landmarks.positions.map((p) => ({ x: p.x, y: p.y }));
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
      padded: pad > 0 && faces.length > 0,
      backend: this.info.backend,
      numTensors: this.tf.memory().numTensors,
      heapBytes: this.heapBytes(),
      ms: Math.round(performance.now() - t0),
    };
  }
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

function touches(b: Box, width: number, height: number): boolean {
  const mx = width * 0.02;
  const my = height * 0.02;
  return b.x < mx || b.y < my || b.x + b.width > width - mx || b.y + b.height > height - my;
}

function bestScore(detections: FaceApiDetection[]): number {
  return Math.max(...detections.map((d) => d.score));
}

function plainBox(b: Box): Box {
  return { x: b.x, y: b.y, width: b.width, height: b.height };
}
