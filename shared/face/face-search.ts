import type { Box } from './geometry.ts';
import { DETECTOR_SIZE, type Detection, type FaceNets } from './face-nets.ts';
import { boxFromLook, confirmingDetection, lookAround, lookAtAll, lookMap, suppressOverlaps, wholeImageLook, type Look } from './looks.ts';
import { sampleAffine, type Border, type RgbImage, type SampleOptions } from './sampler.ts';
import { SECOND_FACE } from './second-face.ts';

/** How the engine searches an image for faces. */
export interface SearchOptions {
  /** Detector confidence below which a face is not counted. @default 0.5 */
  minConfidence?: number;
  /**
   * When no first-pass detection reaches `minConfidence`, those from this confidence up are
   * candidates for a second look, so a face the whole-frame pass barely sees (small in a wide
   * frame) is not lost; beside one that does, small candidates count from 0.15
   * (`smallCandidate`). @default 0.3
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
  /** When nothing is found, or the first pass's face fills the frame, look again at the whole image with a neutral margin (tight head shots). @default true */
  paddedRetry?: boolean;
  /**
   * The padded retry's canvases, tried in turn until one shows a face: each `factor` × the
   * image's longer side, the image in the middle on grey. 1.8 frames a head shot at 1.1× the
   * face as the detector expects a face; a crop that is all face (0.6–0.9× the face box) is
   * a face of the usual size only on 3.5 (measured on the real photos: 3.5 found all 61, 2.5
   * and 3 60, 4 59; a smeared or mirrored surround instead of grey found fewer, and a mirror
   * showed faces in it). @default [1.8, 3.5]
   */
  paddedFactors?: number[];
}

/** A face the search kept, in image pixels. */
export interface Candidate {
  /** Not clipped to the image. */
  box: Box;
  score: number;
  /** The look whose canvas found it; none for the first pass. */
  look?: Look;
  /** What the canvas it was found on showed outside the image: its crops show the same. */
  border: Border;
}

export interface SearchResult {
  faces: Candidate[];
  /** Detector passes after the first. */
  looks: number;
}

/** face-api pads the first pass with black; a look's outside is neutral grey. */
const FIRST_PASS_BORDER: Border = { value: 0 };
const LOOK_BORDER: Border = { value: 128 };

/** The detector on one look's canvas of `size`; boxes in image pixels (not clipped). */
async function detectOn(src: RgbImage, nets: FaceNets, look: Look, sampling: SampleOptions, minScore: number, size = DETECTOR_SIZE): Promise<Detection[]> {
  const found = await nets.detect(sampleAffine(src, size, size, lookMap(look, size), sampling), minScore, size);
  return found.map((d) => ({ box: boxFromLook(d.box, look, size), score: d.score }));
}

/** A face a look's grey canvas showed: its crops show the same grey past the image. */
const foundOnLook = (d: Detection, look: Look): Candidate => ({ ...d, look, border: LOOK_BORDER });

/**
 * The first pass over the whole image, then second looks only where it is doubtful: a
 * region around each low-confidence detection (it is kept only if the look confirms it,
 * with the look's box and score), and the whole image with a margin when nothing is found.
 */
export async function searchFaces(src: RgbImage, nets: FaceNets, opts: SearchOptions = {}): Promise<SearchResult> {
  const { width, height } = src;
  const minConfidence = opts.minConfidence ?? 0.5;
  const doubtfulScore = opts.doubtfulScore ?? 0.9;
  const lookFactor = opts.lookFactor ?? 2.2;
  const whole = wholeImageLook(width, height);
  const firstSampling = { border: FIRST_PASS_BORDER, clampTo: { x: 0, y: 0, width: whole.side, height: whole.side } };
  const candidateConfidence = Math.min(minConfidence, opts.candidateConfidence ?? 0.3);
  const first = await detectOn(src, nets, whole, firstSampling, Math.min(candidateConfidence, SMALL_CANDIDATE_CONFIDENCE));
  const anyCounted = first.some((d) => d.score >= minConfidence);
  const largest = Math.max(width, height);
  const lookBelowShare = opts.lookBelowShare ?? 0.4;
  // A look helps a face that is small in the frame or cut by its border; around a face that
  // already fills much of the image it shows the detector nearly what it saw. Candidates
  // under the floor are chased when nothing reached it, and beside a face that did when they
  // are small on the detector's canvas: there it scores a real second person 0.2–0.5.
  const doubtful = first
    .filter((d) => d.score < doubtfulScore && (d.score >= minConfidence || (anyCounted ? smallCandidate(d, largest) : d.score >= candidateConfidence)))
    .filter((d) => Math.max(d.box.width, d.box.height) < lookBelowShare * largest || touchesBorder(d.box, width, height))
    .sort((a, b) => b.score - a.score);
  const looked = doubtful.slice(0, opts.maxSecondLooks ?? 3);
  const found: Candidate[] = first.filter((d) => !looked.includes(d) && d.score >= minConfidence).map((d) => ({ ...d, border: FIRST_PASS_BORDER }));
  let looks = 0;
  for (const d of looked) {
    const look = lookAround(d.box, lookFactor);
    looks++;
    const confirmed = confirmingDetection(await detectOn(src, nets, look, { border: LOOK_BORDER }, minConfidence, nets.lookSize), look, d.box);
    if (confirmed) found.push(foundOnLook(confirmed, look));
  }
  // Detectors miss faces that fill the frame or touch its border (ID-badge crops). One the
  // first pass did find filling the frame has a box cut by the border, and landmarks on it
  // see a face larger than any the net was trained on: a padded canvas that shows it whole
  // gives the box it is described from (on the crops that are all face, TAR at 0.6 went from
  // 96.4% to 97.9%; the tight and badge head shots read the same at 0.6).
  const filling = found.findIndex((c) => !c.look && fillsFrame(c.box, width, height));
  if ((found.length === 0 || filling >= 0) && (opts.paddedRetry ?? true)) {
    const size = paddedCanvasSize(filling >= 0, largest, nets.lookSize);
    for (const factor of opts.paddedFactors ?? [1.8, 3.5]) {
      const look = lookAtAll(width, height, factor);
      looks++;
      const seen = await detectOn(src, nets, look, { border: LOOK_BORDER }, minConfidence, size);
      if (filling >= 0) {
        const confirmed = confirmingDetection(seen, look, found[filling]!.box);
        if (!confirmed) continue;
        found[filling] = foundOnLook(confirmed, look);
        break;
      }
      for (const d of seen) found.push(foundOnLook(d, look));
      if (found.length > 0) break;
    }
  }
  // Two candidates confirmed as the same face, or a look that also saw a neighbour. Whether a
  // face beside the most confident one counts is for its landmarks to say (`second-face.ts`).
  return { faces: suppressOverlaps(found), looks };
}

/**
 * The canvas a padded retry is rendered to. The small one (a quarter of the work) when the
 * face it is for is large there: one the first pass found filling the frame, or any face of
 * an image no larger than the first pass's canvas, which that pass saw at full resolution or
 * more, so what it missed there it missed for filling the frame or being cut by its border
 * (head shots, enrolment crops). On the real photos' head shots the small canvas read the
 * same or better (badge FAR at 0.6 0.3% -> 0.1%). A larger frame keeps DETECTOR_SIZE: there
 * a face the first pass missed may be small: on the small canvas a 480-line still and a rolled
 * head in one (small-480 img11, tilted img32) showed no face that 512 finds.
 */
export function paddedCanvasSize(fillsTheFrame: boolean, largestSide: number, smallCanvas: number): number {
  return fillsTheFrame || largestSide <= DETECTOR_SIZE ? smallCanvas : DETECTOR_SIZE;
}

/**
 * Beside a counted face, a candidate is worth a look when its box is narrower than this on the
 * first pass's canvas: a face 37–67 pixels wide in an 854×480 frame is 22–40 there, and the
 * detector scored such second people of the real photos 0.20–0.49, which a look around them
 * confirms at 0.92–1.00. Such small candidates beside a face are rare on single-person
 * material: from 0.15 they cost 0–0.07 looks an image on the accuracy bench's kinds.
 */
const SMALL_ON_CANVAS = 40;
const SMALL_CANDIDATE_CONFIDENCE = 0.15;

/**
 * A first-pass candidate beside a counted face that a look may show to be a second person:
 * small on the canvas (the image's longer side shrunk or grown to DETECTOR_SIZE), yet not
 * smaller than a second face may be (`SECOND_FACE.minSizePx`).
 */
export function smallCandidate(d: Detection, largest: number): boolean {
  const side = Math.min(d.box.width, d.box.height);
  return d.score >= SMALL_CANDIDATE_CONFIDENCE && (side * DETECTOR_SIZE) / largest < SMALL_ON_CANVAS && side >= SECOND_FACE.minSizePx;
}

/** Within 2% of the image's edge: the border may cut the face. */
export function touchesBorder(b: Box, width: number, height: number): boolean {
  const mx = width * 0.02;
  const my = height * 0.02;
  return b.x < mx || b.y < my || b.x + b.width > width - mx || b.y + b.height > height - my;
}

/**
 * A face whose box is at least `share` of the image's longer side: the image is all face (a
 * close-up portrait, whose face fills its width but not its height, is not).
 */
export function fillsFrame(b: Box, width: number, height: number, share = 0.8): boolean {
  return Math.max(b.width, b.height) >= share * Math.max(width, height);
}
