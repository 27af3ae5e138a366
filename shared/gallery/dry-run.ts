import type { GalleryEntryRow } from '../../db/repositories/gallery.repository.ts';
import { PermanentError } from '../errors.ts';
import type { GalleryDeps } from './gallery-deps.ts';
import { activeFaces, galleryModel, rescore, type RescoredResult } from './rescore.ts';
import { faceOfSnapshot, snapshotOf } from './snapshot-face.ts';
import { thresholdBounds } from './threshold.ts';

export interface DryRunChange {
  /** Pending proposals' faces as if approved. */
  addProposals?: number[];
  /** Gallery faces (train_img ids) as if removed. */
  remove?: number[];
  /** Removed faces as if restored. */
  restore?: number[];
  /** The employee's threshold as if set. */
  threshold?: number;
}

export interface DryRunReport {
  lanId: string;
  model: string | null;
  /** Snapshots looked at, newest first. */
  snapshots: number;
  rescored: number;
  /** Judged before their faces were kept with their model: cannot be compared again. */
  notRescorable: number;
  threshold: { now: number; proposed: number };
  gallery: { now: string[]; proposed: string[] };
  /** Snapshots whose result would change, newest first. */
  changes: { streamImgId: number; captureTime: string; recorded: string | null; now: Outcome; proposed: Outcome }[];
  /** "from → to": how many. */
  summary: Record<string, number>;
}

type Outcome = { result: RescoredResult; distance: number | null; matched: string | null };

/**
 * Re-scores the employee's last `last` snapshots against the gallery and threshold as they
 * are and as `change` would make them, and reports which results would change. Writes
 * nothing. Both sides are scored now, with the same faces and rules, so a difference is the
 * change's alone; the history rules after the face match (impersonation, absence) are not
 * replayed, so the results are the face match's. A proposal's face counts with its
 * snapshot's descriptor: once approved, facetraining describes the cut-out photo afresh,
 * which moves distances by a few hundredths.
 */
export async function dryRun(deps: Pick<GalleryDeps, 'repo' | 'settings'>, lanId: string, change: DryRunChange, last = 200): Promise<DryRunReport> {
  const entries = await deps.repo.entries(lanId);
  const model = galleryModel(entries) ?? null;
  const own = await deps.repo.threshold(lanId);
  const now = own?.threshold ?? deps.settings.threshold;
  const proposedThreshold = change.threshold ?? now;
  if (change.threshold !== undefined) {
    const b = thresholdBounds(deps.settings.threshold);
    if (change.threshold < b.min || change.threshold > b.max) throw new PermanentError('THRESHOLD_OUT_OF_BOUNDS', `refused: ${change.threshold} is outside ${b.min}–${b.max} (THRESHOLD_OUT_OF_BOUNDS)`);
  }
  for (const id of [...(change.remove ?? []), ...(change.restore ?? [])]) {
    if (!entries.some((e) => e.trainImgId === id)) throw new PermanentError('GALLERY_FACE_UNKNOWN', `refused: train_img ${id} is not a gallery face of ${JSON.stringify(lanId)} (GALLERY_FACE_UNKNOWN)`);
  }
  type Face = { label: string; descriptor: Float32Array; model: string };
  const asFace = (e: GalleryEntryRow): Face => ({ label: `train_img:${e.trainImgId}`, descriptor: e.descriptor, model: e.model });
  const current: Face[] = activeFaces(entries, deps.settings.gallerySize).map(asFace);
  const changed = entries.map((e) => ({ ...e, removed: change.remove?.includes(e.trainImgId) ? { by: '', at: new Date(0), reason: null } : change.restore?.includes(e.trainImgId) ? null : e.removed }));
  const proposedFaces: Face[] = [];
  for (const id of change.addProposals ?? []) {
    const p = await deps.repo.proposal(id);
    if (!p || p.status !== 'pending' || p.streamImgId === null) throw new PermanentError('PROPOSAL_UNKNOWN', `refused: ${id} is not a pending proposal with its snapshot (PROPOSAL_UNKNOWN)`);
    const face = faceOfSnapshot(await snapshotOf(deps.repo, lanId, p.streamImgId), p.faceIndex);
    if (face.model) proposedFaces.push({ label: `proposal:${id}`, descriptor: face.descriptor, model: face.model });
  }
  // Approved proposals become the newest faces.
  const proposed: Face[] = [...proposedFaces, ...activeFaces(changed, deps.settings.gallerySize).map(asFace)].slice(0, deps.settings.gallerySize);
  const notThis = (await deps.repo.notThisFaces(lanId)).filter((n) => n.model === model);
  const snapshots = await deps.repo.recentSnapshots(lanId, last);
  const report: DryRunReport = {
    lanId,
    model,
    snapshots: snapshots.length,
    rescored: 0,
    notRescorable: 0,
    threshold: { now, proposed: proposedThreshold },
    gallery: { now: current.map((f) => f.label), proposed: proposed.map((f) => f.label) },
    changes: [],
    summary: {},
  };
  const sameModel = (faces: Face[]) => faces.filter((f) => f.model === model);
  for (const s of snapshots) {
    const a = model === null ? undefined : rescore(s, model, sameModel(current), notThis, now);
    const b = model === null ? undefined : rescore(s, model, sameModel(proposed), notThis, proposedThreshold);
    if (!a || !b) {
      report.notRescorable++;
      continue;
    }
    report.rescored++;
    if (a.result === b.result) continue;
    const outcome = (r: typeof a, faces: Face[]): Outcome => ({ result: r.result, distance: r.distance, matched: r.galleryFace === null ? null : sameModel(faces)[r.galleryFace]!.label });
    report.changes.push({ streamImgId: s.id, captureTime: s.captureTime.toISOString(), recorded: s.result, now: outcome(a, current), proposed: outcome(b, proposed) });
    const key = `${a.result} → ${b.result}`;
    report.summary[key] = (report.summary[key] ?? 0) + 1;
  }
  return report;
}
