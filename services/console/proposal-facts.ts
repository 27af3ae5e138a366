import type { GalleryRepository } from '../../db/repositories/gallery.repository.ts';
import { descriptorDistance } from '../../shared/face/geometry.ts';
import { lanIdSegment } from '../../shared/contract/console-links.ts';
import { PermanentError } from '../../shared/errors.ts';
import type { DuplicateChecker, DuplicateOf } from '../../shared/gallery/duplicate-check.ts';
import { dryRun, type DryRunReport } from '../../shared/gallery/dry-run.ts';
import type { GalleryDeps } from '../../shared/gallery/gallery-deps.ts';
import { activeFaces } from '../../shared/gallery/rescore.ts';
import { fmt } from './format.ts';

/** How many other employees a proposal shows, closest first. */
export const NEAREST_OTHERS = 3;
/** The snapshots the dry run re-scores, newest first. */
export const DRY_RUN_SNAPSHOTS = 200;

export interface ProposalFactsDeps {
  repo: Pick<GalleryRepository, 'snapshotsOf' | 'entriesOf' | 'thresholdsOf' | 'lanIdWeights'>;
  /** The in-memory gallery index of a model (one per model met, made on first use). */
  checkerFor(model: string): DuplicateChecker;
  settings: GalleryDeps['settings'];
}

type ProposalRef = { lanId: string; streamImgId: number | null; faceIndex: number };


/**
 * What a team lead weighs beside a proposal, formatted once for the pages: the candidate
 * face, the employee's gallery with the face's distance to each active face (the compared
 * ones marked), and the closest face of each of the nearest other employees. Faces of
 * another model than the candidate's are listed without a distance: not comparable.
 */
export async function proposalFacts(deps: ProposalFactsDeps, p: ProposalRef) {
  return (await proposalFactsPage(deps, [p]))[0]!;
}

/**
 * `proposalFacts` of a page of proposals, in order. Its reads are one query each for the
 * whole page (snapshots, gallery entries, thresholds, lan_id weights), all at once, then
 * one index search per proposal and their confirmations together (duplicate-check.ts
 * `nearestMany`): a page of 20 costs a handful of round trips, not 20 times ten.
 */
export async function proposalFactsPage(deps: ProposalFactsDeps, page: readonly ProposalRef[]) {
  const lanIds = [...new Set(page.map((p) => p.lanId))];
  const snapshotIds = [...new Set(page.flatMap((p) => (p.streamImgId === null ? [] : [p.streamImgId])))];
  const [snapshots, allEntries, thresholds, weightList] = await Promise.all([
    deps.repo.snapshotsOf(snapshotIds),
    deps.repo.entriesOf(lanIds),
    deps.repo.thresholdsOf(lanIds),
    deps.repo.lanIdWeights(lanIds),
  ]);
  // Grouped by the weight, as a query of each lan_id matches its rows under the columns' collation.
  const weightOf = new Map(lanIds.map((l, i) => [l, weightList[i]!]));
  const entriesBy = groupBy(allEntries, (e) => e.lanIdWeight);
  const thresholdBy = new Map(thresholds.map((t) => [t.lanIdWeight, t]));

  const each = page.map((p) => {
    const weight = weightOf.get(p.lanId)!;
    const snapshot = p.streamImgId === null ? undefined : snapshots.get(p.streamImgId);
    const face = snapshot?.faces.find((f) => f.faceIndex === p.faceIndex);
    return { p, weight, snapshot, face, entries: entriesBy.get(weight) ?? [], own: thresholdBy.get(weight) };
  });
  // One search per comparable face, grouped by model (one index each), in page order.
  const nearestOf = new Map<number, DuplicateOf[]>();
  const byModel = groupBy(each.flatMap((e, i) => (e.face?.model ? [{ i, model: e.face.model, e }] : [])), (g) => g.model);
  await Promise.all(
    [...byModel].map(async ([model, group]) => {
      const found = await deps.checkerFor(model).nearestMany(group.map(({ e }) => ({ descriptor: e.face!.descriptor, lanId: e.p.lanId, lanIdWeight: e.weight })), NEAREST_OTHERS);
      group.forEach((g, k) => nearestOf.set(g.i, found[k]!));
    }),
  );
  return each.map(({ p, snapshot, face, entries, own }, i) => {
    const hasImage = snapshot?.hasImage ?? false;
    const threshold = own?.threshold ?? deps.settings.threshold;
    const compared = new Set(activeFaces(entries, deps.settings.gallerySize).map((e) => e.trainImgId));
    const active = entries.filter((e) => e.removed === null);
    const distances = active.map((e) => (face?.model && e.model === face.model ? descriptorDistance(face.descriptor, e.descriptor) : null));
    const closest = Math.min(...distances.filter((d): d is number => d !== null));
    const nearest = nearestOf.get(i) ?? [];
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
        path: lanIdSegment(n.lanId),
        trainImgId: n.trainImgId,
        distance: fmt(n.distance),
        within: n.distance <= threshold,
      })),
    };
  });
}

function groupBy<T, K>(items: readonly T[], key: (t: T) => K): Map<K, T[]> {
  const out = new Map<K, T[]>();
  for (const t of items) {
    const k = key(t);
    const list = out.get(k);
    if (list) list.push(t);
    else out.set(k, [t]);
  }
  return out;
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
