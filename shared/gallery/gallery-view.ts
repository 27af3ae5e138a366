import type { GalleryDeps } from './gallery-deps.ts';
import { activeFaces } from './rescore.ts';

/** `vigil gallery <lan_id> --json` (CONTRACT.md), with the removed faces and the threshold's source besides. */
export async function galleryView(deps: Pick<GalleryDeps, 'repo' | 'settings'>, lanId: string) {
  const [entries, proposals, own] = await Promise.all([deps.repo.entries(lanId), deps.repo.proposals(lanId), deps.repo.threshold(lanId)]);
  const compared = new Set(activeFaces(entries, deps.settings.gallerySize).map((e) => e.trainImgId));
  const entry = (e: (typeof entries)[number]) => ({
    trainImgId: e.trainImgId,
    source: e.source,
    fromSnapshot: e.fromSnapshot,
    proposedBy: e.proposedBy,
    approvedBy: e.approvedBy,
    addedAt: e.addedAt.toISOString(),
    model: e.model,
  });
  return {
    lanId,
    entries: entries.filter((e) => e.removed === null).map((e) => ({ ...entry(e), compared: compared.has(e.trainImgId) })),
    removed: entries.filter((e) => e.removed !== null).map((e) => ({ ...entry(e), removedBy: e.removed!.by, removedAt: e.removed!.at.toISOString(), reason: e.removed!.reason })),
    proposals: proposals.map((p) => ({
      id: p.id,
      snapshot: p.streamImgId,
      face: p.faceIndex,
      proposedBy: p.proposedBy,
      proposedAt: p.proposedAt.toISOString(),
      status: p.status,
      decidedBy: p.decidedBy,
      decidedAt: p.decidedAt?.toISOString() ?? null,
      reason: p.reason,
      trainImgId: p.trainImgId,
    })),
    threshold: own?.threshold ?? deps.settings.threshold,
    thresholdSource: own ? { setBy: own.setBy, setAt: own.setAt.toISOString(), reason: own.reason } : 'default',
  };
}
