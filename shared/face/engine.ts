import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as Tfjs from '@tensorflow/tfjs';
import type { FaceBackend, FaceBackendChoice } from './backends.ts';
import { decodeImage, type DecodeOptions } from './decode.ts';
import { eyeLineAngle, faceChipCrop, faceChipDetails, paddedSquareCrop, rotatedSquareCrop, uprightFaceSquare, type Crop } from './face-chip.ts';
import { SMALL_CANVAS } from './fused-ssd.ts';
import { DESCRIPTOR_SIZE, DETECTOR_SIZE, LANDMARK_SIZE, faceApiNets, fuseDetector, type FaceApiNets, type FaceNets } from './face-nets.ts';
import { searchFaces, type Candidate, type SearchOptions } from './face-search.ts';
import { estimatePose, scaleBox, scalePoints, type Box, type Point } from './geometry.ts';
import { clipBox, lookIsPadded } from './looks.ts';
import { restoreUtilForTfjsNode } from './node-util-compat.ts';
import { QUALITY_REGION_SIZE, brightness, resampleRegion, sharpness, toGray, type FaceQuality } from './quality.ts';
import { applyAffine, sampleAffine, sampleShrinking, type RgbImage } from './sampler.ts';
import { countingOrder, notASecondFace } from './second-face.ts';

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

/** How the engine decodes an image and searches it for faces (each option: `SearchOptions`, `DecodeOptions`). */
export type AnalyzeOptions = DecodeOptions & SearchOptions;

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
interface Tf {
  setBackend(name: string): Promise<boolean>;
  ready(): Promise<void>;
  backend(): unknown;
  version_core: string;
}
interface FaceApi {
  version: string;
  tf: Tf;
  nets: Record<'ssdMobilenetv1' | 'faceLandmark68Net' | 'faceRecognitionNet', { loadFromDisk(dir: string): Promise<void> }> & FaceApiNets;
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

/** A face whose eye line is rolled more than this (radians) gets its landmarks again, upright: 10°. */
const RELOOK_ROLL = (10 * Math.PI) / 180;
/**
 * The chip's margin around the face, a share of its size. dlib's descriptor example uses
 * 0.25; with face-api's landmarks (a little wider than dlib's predictor puts them) 0.2 kept
 * the lookalike pair of the real photos apart best (FAR at 0.6 0.2% instead of 0.4%) at the
 * same TAR on every kind.
 */
const CHIP_PADDING = 0.2;
/** Stored with each descriptor: what computed it. Descriptors of another chip are not comparable. */
const CHIP_NAME = `dlib-chip-${DESCRIPTOR_SIZE}-${CHIP_PADDING}`;

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
  private readonly tf: Tf;
  private readonly nets: FaceNets;
  readonly info: EngineInfo;

  private constructor(tf: Tf, nets: FaceNets, info: EngineInfo) {
    this.tf = tf;
    this.nets = nets;
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
        // The narrow `Tf` above is this same module object; the nets need its full API.
        const fullTf = tf as unknown as typeof Tfjs;
        const info: EngineInfo = {
          backend,
          faceApiVersion: faceapi.version,
          tfjsVersion: tf.version_core,
          model: `@vladmandic/face-api@${faceapi.version}/faceRecognitionNet/${CHIP_NAME}`,
          detector: fuseDetector(fullTf, faceapi.nets.ssdMobilenetv1),
        };
        // Only the fused pass knows the smaller canvas's priors (fused-ssd.ts).
        const nets = faceApiNets(fullTf, faceapi.nets, info.detector === 'fused' ? SMALL_CANVAS : DETECTOR_SIZE);
        return { engine: new FaceEngine(tf, nets, info), attempts };
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
    const src: RgbImage = { rgb: img.rgb, width: img.width, height: img.height };
    const search = await searchFaces(src, this.nets, opts);
    const faces: AnalyzedFace[] = [];
    const kept: Box[] = [];
    for (const f of countingOrder(search.faces)) {
      const decodedLandmarks = await this.landmarksOf(src, f);
      if (!decodedLandmarks) continue;
      const box = clipBox(f.box, img.width, img.height);
      const region = resampleRegion(toGray(img.rgb, img.width, img.height, box), box, QUALITY_REGION_SIZE);
      const sharp = sharpness(region, QUALITY_REGION_SIZE);
      // Beside the most confident face, a candidate counts when its landmarks and its own
      // quality say it is a face, whatever the detector scored it; only a face that counts
      // is worth the descriptor net.
      if (kept.length > 0 && notASecondFace({ box: f.box, landmarks: decodedLandmarks, sharpness: sharp }, kept).length > 0) continue;
      kept.push(f.box);
      const original = scaleBox(box, scale);
      const landmarks = scalePoints(decodedLandmarks, scale);
      faces.push({
        box: original,
        score: f.score,
        landmarks,
        descriptor: await this.describe(src, decodedLandmarks),
        quality: {
          sizePx: Math.min(original.width, original.height),
          score: f.score,
          brightness: brightness(region),
          sharpness: sharp,
          pose: estimatePose(landmarks),
        },
      });
    }
    return {
      width: img.originalWidth,
      height: img.originalHeight,
      faces,
      padded: search.faces.some((f) => f.look !== undefined && lookIsPadded(f.look, img.width, img.height)),
      looks: search.looks,
      backend: this.info.backend,
      numTensors: this.nets.numTensors(),
      heapBytes: this.heapBytes(),
      ms: Math.round(performance.now() - t0),
    };
  }

  /**
   * Landmarks on face-api's crop of the detection; on a face they say is rolled, landmarks
   * again with the face turned upright (the landmark net was trained on upright faces). In
   * decoded pixels; undefined when nothing of the detection is on its canvas.
   */
  private async landmarksOf(src: RgbImage, f: Candidate): Promise<Point[] | undefined> {
    const canvas = f.look ? { x: f.look.x, y: f.look.y, width: f.look.side, height: f.look.side } : { x: 0, y: 0, width: src.width, height: src.height };
    const crop = paddedSquareCrop(f.box, canvas, src.width, src.height, LANDMARK_SIZE, f.border);
    if (!crop) return undefined;
    const landmarks = await this.landmarksOn(src, crop);
    const roll = eyeLineAngle(landmarks);
    if (Math.abs(roll) <= RELOOK_ROLL) return landmarks;
    const { centre, side } = uprightFaceSquare(landmarks, roll);
    return this.landmarksOn(src, rotatedSquareCrop(centre, side, roll, LANDMARK_SIZE, src.width, src.height, f.border));
  }

  /**
   * The descriptor on dlib's face chip of the landmarks (decoded pixels): the face rotated so
   * the eyes are level and scaled to the mean face shape, as the descriptor net was trained.
   */
  private async describe(src: RgbImage, landmarks: Point[]): Promise<Float32Array> {
    const chip = faceChipCrop(faceChipDetails(landmarks, DESCRIPTOR_SIZE, CHIP_PADDING), src.width, src.height);
    return this.nets.descriptor(sampleShrinking(src, DESCRIPTOR_SIZE, DESCRIPTOR_SIZE, chip.map, chip.border));
  }

  private async landmarksOn(src: RgbImage, crop: Crop): Promise<Point[]> {
    return (await this.nets.landmarks(sample(src, LANDMARK_SIZE, crop))).map((p) => applyAffine(crop.map, p));
  }
}

function sample(src: RgbImage, size: number, crop: Crop): Float32Array {
  return sampleAffine(src, size, size, crop.map, { border: crop.border, valid: crop.valid, ...(crop.clampTo && { clampTo: crop.clampTo }) });
}
