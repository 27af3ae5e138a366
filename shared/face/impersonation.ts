import { descriptorDistance, landmarkShift, type Point } from './geometry.ts';

/** What is kept of each judged snapshot to compare it with the next ones. */
export interface SnapshotTrace {
  streamImgId: number;
  sha256: string;
  /** The best-matching face; absent when the snapshot had none. */
  descriptor?: ArrayLike<number>;
  /** Its landmarks relative to its box (`normalizeLandmarks`). */
  landmarks?: Point[];
}

export interface ImpersonationTolerances {
  /** Snapshots compared: the current one and the employee's previous successful ones. @default 3 */
  window: number;
  /** Largest descriptor distance between two snapshots that still counts as "unchanged". @default 0.12 */
  maxDistance: number;
  /** Largest mean landmark shift (fraction of the face box) that still counts as "unchanged". @default 0.015 */
  maxLandmarkShift: number;
}

export interface PairEvidence {
  streamImgId: number;
  sameBytes: boolean;
  distance: number | null;
  landmarkShift: number | null;
  nearIdentical: boolean;
}

export interface ImpersonationVerdict {
  suspected: boolean;
  /** The current snapshot against each earlier one of the window, newest first. */
  pairs: PairEvidence[];
  tolerances: ImpersonationTolerances;
}

/**
 * A live face moves between webcam snapshots: landmarks relative to the face box and the
 * descriptor change a little each time. A printed photo or a phone held to the camera gives
 * snapshots that barely change, and replayed bytes do not change at all. The current
 * successful snapshot is suspected when every earlier one of the window (the employee's
 * previous successful snapshots, newest first) is byte-identical to it, or within both
 * tolerances. Fewer earlier snapshots than the window needs: not suspected.
 */
export function judgeImpersonation(current: SnapshotTrace, earlier: SnapshotTrace[], tol: ImpersonationTolerances): ImpersonationVerdict {
  const previous = earlier.slice(0, tol.window - 1);
  const pairs = previous.map((p): PairEvidence => {
    const sameBytes = p.sha256 === current.sha256;
    const distance = current.descriptor && p.descriptor ? round(descriptorDistance(current.descriptor, p.descriptor), 4) : null;
    const shift = current.landmarks && p.landmarks && current.landmarks.length === p.landmarks.length ? round(landmarkShift(current.landmarks, p.landmarks), 5) : null;
    const still = distance !== null && shift !== null && distance <= tol.maxDistance && shift <= tol.maxLandmarkShift;
    return { streamImgId: p.streamImgId, sameBytes, distance, landmarkShift: shift, nearIdentical: sameBytes || still };
  });
  const suspected = previous.length === tol.window - 1 && pairs.every((p) => p.nearIdentical);
  return { suspected, pairs, tolerances: tol };
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
