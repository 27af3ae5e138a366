import type { GalleryRepository } from '../../db/repositories/gallery.repository.ts';
import type { OperationsRepository } from '../../db/repositories/operations.repository.ts';
import type { ReviewRepository } from '../../db/repositories/review.repository.ts';
import { descriptorDistance } from '../../shared/face/geometry.ts';
import { PermanentError } from '../../shared/errors.ts';
import type { DuplicateChecker } from '../../shared/gallery/duplicate-check.ts';
import { dryRun, type DryRunReport } from '../../shared/gallery/dry-run.ts';
import type { GalleryDeps } from '../../shared/gallery/gallery-deps.ts';
import { activeFaces } from '../../shared/gallery/rescore.ts';

/** How many other employees a proposal shows, closest first. */
export const NEAREST_OTHERS = 3;
/** The snapshots the dry run re-scores, newest first. */
export const DRY_RUN_SNAPSHOTS = 200;

export interface ProposalFactsDeps {
  repo: Pick<GalleryRepository, 'snapshot' | 'entries' | 'threshold'>;
  images: Pick<ReviewRepository, 'hasImage'>;
  weights: Pick<OperationsRepository, 'lanIdWeight'>;
  /** The in-memory gallery index of a model (one per model met, made on first use). */
  checkerFor(model: string): DuplicateChecker;
  settings: GalleryDeps['settings'];
}

const fmt = (n: number | null | undefined, digits = 4): string => (typeof n === 'number' && Number.isFinite(n) ? n.toFixed(digits) : '—');
/** The lan_id as a path segment, for `href="/employees/<%= … %>"` (a template writes the fixed part itself: link-rule.ts). */
export const employeePath = (lanId: string) => encodeURIComponent(lanId);

/**
 * What a team lead weighs beside a proposal, formatted once for the pages: the candidate
 * face, the employee's gallery with the face's distance to each active face (the compared
 * ones marked), and the closest face of each of the nearest other employees. Faces of
 * another model than the candidate's are listed without a distance: not comparable.
 */
export async function proposalFacts(deps: ProposalFactsDeps, p: { lanId: string; streamImgId: number | null; faceIndex: number }) {
  const [snapshot, hasImage, entries, own, weight] = await Promise.all([
    p.streamImgId === null ? undefined : deps.repo.snapshot(p.streamImgId),
    p.streamImgId === null ? false : deps.images.hasImage('snapshot', p.streamImgId),
    deps.repo.entries(p.lanId),
    deps.repo.threshold(p.lanId),
    deps.weights.lanIdWeight(p.lanId),
  ]);
  const face = snapshot?.faces.find((f) => f.faceIndex === p.faceIndex);
  const threshold = own?.threshold ?? deps.settings.threshold;
  const compared = new Set(activeFaces(entries, deps.settings.gallerySize).map((e) => e.trainImgId));
  const active = entries.filter((e) => e.removed === null);
  const distances = active.map((e) => (face?.model && e.model === face.model ? descriptorDistance(face.descriptor, e.descriptor) : null));
  const closest = Math.min(...distances.filter((d): d is number => d !== null));
  const nearest = face?.model ? await deps.checkerFor(face.model).nearest({ descriptor: face.descriptor, lanId: p.lanId, lanIdWeight: weight }, NEAREST_OTHERS) : [];
  return {
    snapshotId: p.streamImgId,
    snapshotGone: snapshot === undefined,
    faceIndex: p.faceIndex,
    imageGone: snapshot !== undefined && !hasImage,
    /** The crop route needs the image and the face's box; a snapshot judged before boxes were kept has none. */
    hasCrop: hasImage && face?.box != null,
    comparable: face?.model != null,
    threshold: fmt(threshold, 2),
    thresholdSource: own ? `set by ${own.setBy}` : 'site default',
    gallery: active.map((e, i) => ({
      trainImgId: e.trainImgId,
      source: e.source === 'review' ? `approved by ${e.approvedBy ?? '?'}` : 'enrolment',
      addedAt: e.addedAt.toISOString(),
      compared: compared.has(e.trainImgId),
      distance: fmt(distances[i]),
      closest: distances[i] !== null && distances[i] === closest,
      within: distances[i] !== null && distances[i]! <= threshold,
    })),
    nearest: nearest.map((n) => ({
      lanId: n.lanId,
      path: employeePath(n.lanId),
      trainImgId: n.trainImgId,
      distance: fmt(n.distance),
      within: n.distance <= threshold,
    })),
  };
}

export type ProposalFacts = Awaited<ReturnType<typeof proposalFacts>>;

/**
 * The dry run of approving the proposal (shared/gallery/dry-run.ts), as the page shows it:
 * the snapshots whose result would change, old → new, or why it could not be run.
 */
export async function proposalDryRun(deps: Pick<GalleryDeps, 'repo' | 'settings'>, p: { id: number; lanId: string }) {
  let r: DryRunReport;
  try {
    r = await dryRun(deps, p.lanId, { addProposals: [p.id] }, DRY_RUN_SNAPSHOTS);
  } catch (err) {
    if (!(err instanceof PermanentError)) throw err;
    return { error: `${err.code}: ${err.message}` };
  }
  return {
    error: '',
    snapshots: r.snapshots,
    rescored: r.rescored,
    notRescorable: r.notRescorable,
    summary: Object.entries(r.summary).map(([change, count]) => ({ change, count })),
    changes: r.changes.map((c) => ({
      streamImgId: c.streamImgId,
      captureTime: c.captureTime,
      recorded: c.recorded ?? '(none)',
      now: `${c.now.result} (${fmt(c.now.distance)})`,
      proposed: `${c.proposed.result} (${fmt(c.proposed.distance)})`,
    })),
  };
}
