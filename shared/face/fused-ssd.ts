import type * as Tfjs from '@tensorflow/tfjs';

/*
 * face-api's SSD MobileNet v1 forward pass, over the same weights, with each layer's
 * element-wise work fused into its convolution.
 *
 * face-api runs every layer as convolution → batch norm (or bias add) → clip to [0, 6]: three
 * passes over tensors of up to 256×256×32 floats. On the wasm backend those extra passes are
 * about a fifth of the detector's time, and the detector is about 85% of an enrolment.
 * Here batch norm is folded into the depthwise filters and a bias once at load, and bias +
 * ReLU6 run inside each convolution (`tf.fused.*`, which XNNPACK does in one pass).
 *
 * The arithmetic is the same up to float rounding (scores agree to about 1e-6). `installFusedSsd`
 * checks that on a fixed input before it replaces face-api's forward pass, and keeps face-api's
 * own when the two disagree (say a face-api upgrade changed the network).
 */

type Tf = typeof Tfjs;
type T1 = Tfjs.Tensor1D;
type T4 = Tfjs.Tensor4D;

/* face-api's parameter layout (src/ssdMobilenetv1/types.ts), as far as this file reads it. */
interface PointwiseParams {
  filters: T4;
  batch_norm_offset: T1;
}
interface DepthwiseParams {
  filters: T4;
  batch_norm_scale: T1;
  batch_norm_offset: T1;
  batch_norm_mean: T1;
  batch_norm_variance: T1;
}
interface ConvParams {
  filters: T4;
  bias: T1;
}
interface BoxPredictorParams {
  box_encoding_predictor: ConvParams;
  class_predictor: ConvParams;
}
export interface SsdParams {
  mobilenetv1: Record<string, PointwiseParams | { depthwise_conv: DepthwiseParams; pointwise_conv: PointwiseParams }>;
  prediction_layer: Record<string, PointwiseParams | BoxPredictorParams>;
  output_layer: { extra_dim: Tfjs.Tensor3D };
}

/** What a forward pass reads of face-api's `NetInput`. */
export interface SsdInput {
  toBatchTensor(inputSize: number, isCenterInputs: boolean): T4;
}
export interface SsdOutput {
  boxes: Tfjs.Tensor2D[];
  scores: T1[];
}
/** face-api's `nets.ssdMobilenetv1`: `locateFaces` calls `this.forwardInput`. */
export interface SsdNet {
  readonly params: SsdParams | undefined;
  forwardInput(input: SsdInput): SsdOutput;
}

export interface FusedSsdReport {
  /** The fused pass replaced face-api's. */
  installed: boolean;
  /** Largest difference from face-api's own pass on the check input (scores and box corners). */
  maxDifference: number;
}

/** From face-api's mobileNetV1.ts. */
const BATCH_NORM_EPSILON = 0.0010000000474974513;
const STRIDE_2_LAYERS = new Set([2, 4, 6, 12]);
/** Far above float rounding (about 1e-6), far below anything that moves a detection. */
const MAX_DIFFERENCE = 1e-4;

interface FusedWeights {
  conv0: PointwiseParams;
  /** `filter` and `bias` are folded here (and released by `release`); the rest are face-api's. */
  pairs: { filter: T4; bias: T1; stride: 1 | 2; pointwise: PointwiseParams }[];
  prediction: PointwiseParams[];
  predictors: BoxPredictorParams[];
  /** Per input size: its priors (512: face-api's own) and how many feature layers it reads. */
  geometry: Map<number, { priors: Tfjs.Tensor3D; layers: number }>;
}

type ConvPair = { depthwise_conv: DepthwiseParams; pointwise_conv: PointwiseParams };

/** Checks the whole layout before any tensor is made, so a refusal leaves nothing behind. */
function foldWeights(tf: Tf, params: SsdParams): FusedWeights {
  const mn = params.mobilenetv1;
  const pl = params.prediction_layer;
  const layers = Array.from({ length: 13 }, (_, i) => mn[`conv_${i + 1}`] as ConvPair | undefined);
  const conv0 = mn.conv_0 as PointwiseParams | undefined;
  const prediction = Array.from({ length: 8 }, (_, i) => pl[`conv_${i}`] as PointwiseParams | undefined);
  const predictors = Array.from({ length: 6 }, (_, i) => pl[`box_predictor_${i}`] as BoxPredictorParams | undefined);
  if (
    !conv0?.filters ||
    layers.some((l) => !l?.depthwise_conv?.filters || !l.pointwise_conv?.filters) ||
    prediction.some((p) => !p?.filters) ||
    predictors.some((p) => !p?.box_encoding_predictor || !p.class_predictor) ||
    !params.output_layer?.extra_dim
  ) {
    throw new Error('SSD weights do not have the expected layers');
  }
  const pairs = (layers as ConvPair[]).map((layer, i) => {
    const d = layer.depthwise_conv;
    const { filter, bias } = tf.tidy(() => {
      const scale = tf.div(d.batch_norm_scale, tf.sqrt(tf.add(d.batch_norm_variance, BATCH_NORM_EPSILON)));
      return {
        filter: tf.mul(d.filters, tf.reshape(scale, [1, 1, -1, 1])) as T4,
        bias: tf.sub(d.batch_norm_offset, tf.mul(d.batch_norm_mean, scale)) as T1,
      };
    });
    return { filter, bias, stride: STRIDE_2_LAYERS.has(i + 1) ? (2 as const) : (1 as const), pointwise: layer.pointwise_conv };
  });
  const priors = params.output_layer.extra_dim;
  const geometry = new Map([
    [512, { priors, layers: 6 }],
    [SMALL_CANVAS, priorsFor(tf, priors, SMALL_CANVAS)],
  ]);
  return { conv0, pairs, prediction: prediction as PointwiseParams[], predictors: predictors as BoxPredictorParams[], geometry };
}

function release(tf: Tf, w: FusedWeights): void {
  tf.dispose(w.pairs.flatMap((p) => [p.filter, p.bias]));
  tf.dispose(w.geometry.get(SMALL_CANVAS)!.priors);
}

/** SSD's six feature grids for a square input of `size` pixels (512: 32, 16, 8, 4, 2, 1). */
export function featureGrids(size: number): number[] {
  const grids = [Math.ceil(size / 16)];
  for (let k = 1; k < 6; k++) grids.push(Math.ceil(grids[k - 1]! / 2));
  return grids;
}

/** Anchors per grid cell of each feature layer (face-api's SSD: 3 on the finest, 6 on the rest). */
const ANCHORS_PER_CELL = [3, 6, 6, 6, 6, 6];

/**
 * The canvas sizes the fused pass runs besides 512. The network is convolutional: on a
 * 256×256 input every feature map is exactly the top-left quarter of a 512 input's (the
 * stride-2 'same' convolutions pad only bottom and right on even sizes), down to the 2×2 →
 * 1×1 layer; so the 512 priors of those cells, scaled by 2, decode its boxes, and the last
 * layer (whole-canvas objects, which its 1×1 map no longer lines up with) is left out.
 * A quarter of the work, for looks where the face is already about half the canvas.
 */
export const SMALL_CANVAS = 256;

/**
 * For an input smaller than 512: the priors of the cells it has, in its own relative
 * coordinates, and the feature layers it reads (all but the last).
 */
function priorsFor(tf: Tf, priors: Tfjs.Tensor3D, size: number): { priors: Tfjs.Tensor3D; layers: number } {
  const full = featureGrids(512);
  const mine = featureGrids(size);
  const layers = 5;
  const flat = tf.reshape(priors, [-1, 4]);
  const all = flat.arraySync() as number[][];
  flat.dispose();
  const picked: number[][] = [];
  let offset = 0;
  for (let k = 0; k < 6; k++) {
    const a = ANCHORS_PER_CELL[k]!;
    if (k < layers) {
      for (let i = 0; i < mine[k]!; i++) {
        for (let j = 0; j < mine[k]!; j++) {
          for (let n = 0; n < a; n++) picked.push(all[offset + (i * full[k]! + j) * a + n]!.map((v) => (v * 512) / size));
        }
      }
    }
    offset += full[k]! * full[k]! * a;
  }
  return { priors: tf.tensor3d([picked], [1, picked.length, 4]) as unknown as Tfjs.Tensor3D, layers };
}

function fusedForward(tf: Tf, w: FusedWeights, input: SsdInput): SsdOutput {
  const pointwise = (x: T4, p: PointwiseParams, stride: 1 | 2): T4 =>
    tf.fused.conv2d({ x, filter: p.filters, strides: [stride, stride], pad: 'same', bias: p.batch_norm_offset, activation: 'relu6' });
  const conv = (x: T4, p: ConvParams): T4 => tf.fused.conv2d({ x, filter: p.filters, strides: [1, 1], pad: 'same', bias: p.bias });
  // tidy keeps what is returned; its types want an index signature that SsdOutput has no need of.
  return tf.tidy((): Tfjs.TensorContainerObject => {
    const batch = tf.cast(input.toBatchTensor(512, false), 'float32');
    const geometry = w.geometry.get(batch.shape[1]!);
    if (!geometry || batch.shape[1] !== batch.shape[2]) throw new Error(`the fused SSD pass takes square inputs of ${[...w.geometry.keys()].join(' or ')} pixels, not ${batch.shape[2]}×${batch.shape[1]}`);
    // face-api's normalisation to -1..1, kept apart from conv_0: folding it in would change
    // what the 'same' padding at the border means.
    let x = pointwise(tf.sub(tf.div(batch, 127.5), 1) as T4, w.conv0, 2);
    let conv11: T4 | undefined;
    for (const [i, l] of w.pairs.entries()) {
      x = tf.fused.depthwiseConv2d({ x, filter: l.filter, strides: [l.stride, l.stride], pad: 'same', bias: l.bias, activation: 'relu6' });
      x = pointwise(x, l.pointwise, 1);
      if (i + 1 === 11) conv11 = x;
    }
    const [c0, c1, c2, c3, c4, c5, c6] = w.prediction;
    const f1 = pointwise(pointwise(x, c0!, 1), c1!, 2);
    const f2 = pointwise(pointwise(f1, c2!, 1), c3!, 2);
    const f3 = pointwise(pointwise(f2, c4!, 1), c5!, 2);
    const f4 = pointwise(pointwise(f3, c6!, 1), w.prediction[7]!, 2);
    const features = [conv11!, x, f1, f2, f3, f4].slice(0, geometry.layers);
    const batchSize = batch.shape[0];
    const encodings = tf.concat(features.map((f, i) => tf.reshape(conv(f, w.predictors[i]!.box_encoding_predictor), [batchSize, -1, 1, 4])), 1);
    const classes = tf.concat(features.map((f, i) => tf.reshape(conv(f, w.predictors[i]!.class_predictor), [batchSize, -1, 3])), 1);
    return { ...outputLayer(tf, encodings as T4, classes as Tfjs.Tensor3D, geometry.priors) };
  }) as unknown as SsdOutput;
}

/** face-api's outputLayer.ts: SSD box decoding against the priors, and the face class's sigmoid. */
function outputLayer(tf: Tf, encodings: T4, classes: Tfjs.Tensor3D, priors: Tfjs.Tensor3D): SsdOutput {
  const batchSize = encodings.shape[0];
  const anchors = tf.reshape(tf.tile(priors, [batchSize, 1, 1]), [-1, 4]);
  const [a0, a1, a2, a3] = tf.unstack(tf.transpose(anchors, [1, 0]));
  const sizes = [tf.sub(a2!, a0!), tf.sub(a3!, a1!)];
  const centers = [tf.add(a0!, tf.div(sizes[0]!, 2)), tf.add(a1!, tf.div(sizes[1]!, 2))];
  const [e0, e1, e2, e3] = tf.unstack(tf.transpose(tf.reshape(encodings, [-1, 4]), [1, 0]));
  const half0 = tf.div(tf.mul(tf.exp(tf.div(e2!, 5)), sizes[0]!), 2);
  const center0 = tf.add(tf.mul(tf.div(e0!, 10), sizes[0]!), centers[0]!);
  const half1 = tf.div(tf.mul(tf.exp(tf.div(e3!, 5)), sizes[1]!), 2);
  const center1 = tf.add(tf.mul(tf.div(e1!, 10), sizes[1]!), centers[1]!);
  const decoded = tf.transpose(tf.stack([tf.sub(center0, half0), tf.sub(center1, half1), tf.add(center0, half0), tf.add(center1, half1)]), [1, 0]);
  const boxes = tf.reshape(decoded, [batchSize, decoded.shape[0]! / batchSize, 4]);
  const faceScores = tf.sigmoid(tf.slice(classes, [0, 0, 1], [-1, -1, 1]));
  const scores = tf.reshape(faceScores, [batchSize, faceScores.shape[1]!]);
  return { boxes: tf.unstack(boxes) as Tfjs.Tensor2D[], scores: tf.unstack(scores) as T1[] };
}

/** A fixed, varied 512×512 picture: every weight of the network takes part in the check. */
function checkInput(tf: Tf): SsdInput {
  return {
    toBatchTensor: (size) =>
      tf.tidy(() => {
        const y = tf.reshape(tf.range(0, size), [size, 1, 1]);
        const x = tf.reshape(tf.range(0, size), [1, size, 1]);
        const c = tf.reshape(tf.tensor1d([0.7, 1.3, 2.1]), [1, 1, 3]);
        const wave = tf.add(tf.sin(tf.mul(tf.add(tf.mul(x, 0.05), tf.mul(y, 0.031)), c)), tf.cos(tf.mul(tf.mul(x, y), 0.0007)));
        return tf.expandDims(tf.mul(tf.add(wave, 2), 63.75), 0) as T4;
      }),
  };
}

function largestDifference(tf: Tf, a: SsdOutput, b: SsdOutput): number {
  return tf.tidy(() => {
    const diff = (p: Tfjs.Tensor, q: Tfjs.Tensor) => tf.max(tf.abs(tf.sub(p, q))).dataSync()[0]!;
    return Math.max(diff(a.scores[0]!, b.scores[0]!), diff(a.boxes[0]!, b.boxes[0]!));
  });
}

/** Per net: face-api's own pass, and the folded weights now in use (a reload fuses again). */
const installed = new WeakMap<SsdNet, { stock: SsdNet['forwardInput']; weights: FusedWeights }>();

/**
 * Replaces `net.forwardInput` with the fused pass when it agrees with face-api's on a fixed
 * input. The net's weights must be loaded; after loading them again, call this again. The
 * folded weights stay for the net's life.
 */
export function installFusedSsd(tf: Tf, net: SsdNet): FusedSsdReport {
  if (!net.params) throw new Error('load the SSD MobileNet v1 weights before fusing it');
  const previous = installed.get(net);
  const stock = previous?.stock ?? net.forwardInput;
  const weights = foldWeights(tf, net.params);
  const input = checkInput(tf);
  const expected = stock.call(net, input);
  const fused = fusedForward(tf, weights, input);
  const maxDifference = largestDifference(tf, expected, fused);
  tf.dispose([...expected.boxes, ...expected.scores, ...fused.boxes, ...fused.scores]);
  if (previous) {
    release(tf, previous.weights);
    installed.delete(net);
    net.forwardInput = stock;
  }
  if (!(maxDifference <= MAX_DIFFERENCE)) {
    release(tf, weights);
    return { installed: false, maxDifference };
  }
  installed.set(net, { stock, weights });
  net.forwardInput = (i) => fusedForward(tf, weights, i);
  return { installed: true, maxDifference };
}
