import type * as Tfjs from '@tensorflow/tfjs';
import type { Box, Point } from './geometry.ts';
import { installFusedSsd, type SsdNet, type SsdOutput } from './fused-ssd.ts';

/**
 * The three networks of face-api, each fed an input sampled by `sampler.ts` at the size it
 * takes: no resizing, padding or cropping inside TensorFlow.js. Inputs are float HWC
 * images (0–255); outputs are in the input's pixels.
 */
export interface FaceNets {
  /** SSD MobileNet v1 on a square canvas of `size` (DETECTOR_SIZE, or `lookSize`): boxes (canvas pixels) from `minScore`, after non-maximum suppression. */
  detect(canvas: Float32Array, minScore: number, size?: number): Promise<Detection[]>;
  /** The canvas a second look around one face is rendered to: SMALL_CANVAS with the fused pass, else DETECTOR_SIZE. */
  readonly lookSize: number;
  /** The 68 iBUG points on a LANDMARK_SIZE square crop, in crop pixels. */
  landmarks(crop: Float32Array): Promise<Point[]>;
  /** The 128-d descriptor of a DESCRIPTOR_SIZE square face chip. */
  descriptor(chip: Float32Array): Promise<Float32Array>;
  /** Live tensors: flat over time, or memory leaks. */
  numTensors(): number;
}

export interface Detection {
  box: Box;
  score: number;
}

export const DETECTOR_SIZE = 512;
export const LANDMARK_SIZE = 112;
export const DESCRIPTOR_SIZE = 150;

/* The parts of face-api this file uses, typed narrowly. */
interface LandmarkNet {
  detectLandmarks(input: Tfjs.Tensor3D): Promise<{ positions: Point[] }>;
}
interface RecognitionNet {
  computeFaceDescriptor(input: Tfjs.Tensor3D): Promise<Float32Array>;
}
export interface FaceApiNets {
  ssdMobilenetv1: SsdNet;
  faceLandmark68Net: LandmarkNet;
  faceRecognitionNet: RecognitionNet;
}

/** face-api's SSD post-processing: boxes overlapping a better one by more than this are dropped. */
const NMS_IOU = 0.5;
/** The most detections kept per canvas (face-api caps at 100; a frame never holds more faces than this). */
const MAX_DETECTIONS = 50;

export function faceApiNets(tf: typeof Tfjs, nets: FaceApiNets, lookSize = DETECTOR_SIZE): FaceNets {
  const image = (data: Float32Array, size: number) => tf.tensor3d(data, [size, size, 3], 'float32');
  return {
    lookSize,
    async detect(canvas, minScore, size = DETECTOR_SIZE) {
      const input = image(canvas, size);
      let out: SsdOutput | undefined;
      try {
        // face-api's NetInput, reduced to what the forward pass reads: the canvas is already the detector's size.
        out = nets.ssdMobilenetv1.forwardInput({ toBatchTensor: () => tf.expandDims(input, 0) as Tfjs.Tensor4D });
        const boxes = out.boxes[0]!.dataSync();
        const scores = out.scores[0]!.dataSync();
        return suppress(boxes, scores, minScore, size);
      } finally {
        input.dispose();
        if (out) tf.dispose([...out.boxes, ...out.scores]);
      }
    },
    async landmarks(crop) {
      const input = image(crop, LANDMARK_SIZE);
      try {
        const found = await nets.faceLandmark68Net.detectLandmarks(input);
        return found.positions.map((p) => ({ x: p.x, y: p.y }));
      } finally {
        input.dispose();
      }
    },
    async descriptor(chip) {
      const input = image(chip, DESCRIPTOR_SIZE);
      try {
        return Float32Array.from(await nets.faceRecognitionNet.computeFaceDescriptor(input));
      } finally {
        input.dispose();
      }
    },
    numTensors: () => tf.memory().numTensors,
  };
}

/**
 * face-api's SSD decoding (`locateFaces`), reading the network's output once: greedy
 * non-maximum suppression over the boxes scoring above `minScore`, corners clipped to the
 * canvas. face-api's own reads every box back from the backend for each pair it compares,
 * which on a large face (dozens of overlapping candidates) cost more than the landmark net.
 * `boxes` holds [top, left, bottom, right] per box, relative to the canvas.
 */
export function suppress(boxes: ArrayLike<number>, scores: ArrayLike<number>, minScore: number, size = DETECTOR_SIZE): Detection[] {
  const candidates: number[] = [];
  for (let i = 0; i < scores.length; i++) if (scores[i]! > minScore) candidates.push(i);
  candidates.sort((p, q) => scores[q]! - scores[p]!);
  const selected: number[] = [];
  for (const i of candidates) {
    if (selected.length >= MAX_DETECTIONS) break;
    if (selected.every((j) => relativeIou(boxes, i, j) <= NMS_IOU)) selected.push(i);
  }
  return selected.map((i) => {
    const top = Math.max(0, boxes[i * 4]!) * size;
    const left = Math.max(0, boxes[i * 4 + 1]!) * size;
    const bottom = Math.min(1, boxes[i * 4 + 2]!) * size;
    const right = Math.min(1, boxes[i * 4 + 3]!) * size;
    return { box: { x: left, y: top, width: right - left, height: bottom - top }, score: scores[i]! };
  });
}

function relativeIou(b: ArrayLike<number>, i: number, j: number): number {
  const [yi0, xi0, yi1, xi1] = corners(b, i);
  const [yj0, xj0, yj1, xj1] = corners(b, j);
  const areaI = (yi1 - yi0) * (xi1 - xi0);
  const areaJ = (yj1 - yj0) * (xj1 - xj0);
  if (areaI <= 0 || areaJ <= 0) return 0;
  const h = Math.max(Math.min(yi1, yj1) - Math.max(yi0, yj0), 0);
  const w = Math.max(Math.min(xi1, xj1) - Math.max(xi0, xj0), 0);
  const inter = h * w;
  return inter / (areaI + areaJ - inter);
}

function corners(b: ArrayLike<number>, i: number): [number, number, number, number] {
  const y0 = b[i * 4]!;
  const x0 = b[i * 4 + 1]!;
  const y1 = b[i * 4 + 2]!;
  const x1 = b[i * 4 + 3]!;
  return [Math.min(y0, y1), Math.min(x0, x1), Math.max(y0, y1), Math.max(x0, x1)];
}

/** The same detector, faster (see fused-ssd.ts); face-api's own pass when fusing is not safe. */
export function fuseDetector(tf: typeof Tfjs, net: SsdNet): `fused` | `face-api (${string})` {
  try {
    const { installed, maxDifference } = installFusedSsd(tf, net);
    return installed ? 'fused' : `face-api (fused pass differs by ${maxDifference.toExponential(1)})`;
  } catch (err) {
    return `face-api (${(err as Error).message})`;
  }
}
