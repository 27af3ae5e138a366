import { requireActor } from '../accounts/actor.ts';
import { PermanentError } from '../errors.ts';
import { imageOfFace } from './face-image.ts';
import type { GalleryDeps } from './gallery-deps.ts';
import { faceOfSnapshot, snapshotOf } from './snapshot-face.ts';
import { keptReason } from './reason.ts';

/**
 * A supervisor proposes a snapshot's face for the employee's gallery ("it is the employee").
 * `faceIndex` defaults to the face the verdict compared, or the only one.
 */
export async function propose(deps: Pick<GalleryDeps, 'repo' | 'users'>, p: { lanId: string; streamImgId: number; faceIndex?: number; by: string }): Promise<{ proposalId: number; faceIndex: number }> {
  const actor = await requireActor(deps.users, p.by, 'supervisor');
  const snapshot = await snapshotOf(deps.repo, p.lanId, p.streamImgId);
  const face = faceOfSnapshot(snapshot, p.faceIndex);
  const open = await deps.repo.pendingProposalOf(snapshot.id, face.faceIndex);
  if (open) throw new PermanentError('PROPOSAL_EXISTS', `refused: face ${face.faceIndex} of stream_img ${snapshot.id} is already proposed (proposal ${open.id}, by ${open.proposedBy}) (PROPOSAL_EXISTS)`);
  const proposalId = await deps.repo.addProposal({ lanId: snapshot.lanId, streamImgId: snapshot.id, faceIndex: face.faceIndex, by: actor.name });
  return { proposalId, faceIndex: face.faceIndex };
}

/**
 * A team lead, never the proposer, approves: the face becomes a new `train_img` row that
 * facetraining checks like any enrolment (quality gate, duplicate identities), published
 * once committed. A publish that fails leaves the row in `N` for `vigil rescue`.
 */
export async function approve(deps: Pick<GalleryDeps, 'repo' | 'users' | 'publishTraining'>, p: { proposalId: number; by: string }): Promise<{ trainImgId: number }> {
  const actor = await requireActor(deps.users, p.by, 'teamlead');
  const proposal = await pendingProposal(deps, p.proposalId);
  if (proposal.proposedBy === actor.name) {
    throw new PermanentError('APPROVER_IS_PROPOSER', `refused: ${actor.name} proposed proposal ${proposal.id}; someone else must decide it (APPROVER_IS_PROPOSER)`);
  }
  const gone = () => new PermanentError('SNAPSHOT_GONE', `refused: the snapshot of proposal ${proposal.id} is gone (retention or delete-user); reject it (SNAPSHOT_GONE)`);
  if (proposal.streamImgId === null) throw gone();
  const snapshot = await deps.repo.snapshot(proposal.streamImgId);
  const image = await deps.repo.snapshotImage(proposal.streamImgId);
  if (!snapshot || !image) throw gone();
  const faceImage = await imageOfFace(image, snapshot.faces, proposal.faceIndex);
  const done = await deps.repo.approve({ proposalId: proposal.id, by: actor.name, image: faceImage, captureTime: snapshot.captureTime });
  if (!done) throw decided(proposal.id);
  await deps.publishTraining(done.trainImgId);
  return done;
}

/** A team lead, never the proposer, rejects with a reason. */
export async function reject(deps: Pick<GalleryDeps, 'repo' | 'users'>, p: { proposalId: number; by: string; reason: string }): Promise<void> {
  const actor = await requireActor(deps.users, p.by, 'teamlead');
  const reason = keptReason(p.reason);
  if (reason === null) throw new PermanentError('REASON_REQUIRED', 'refused: a rejection needs a reason (REASON_REQUIRED)');
  const proposal = await pendingProposal(deps, p.proposalId);
  if (proposal.proposedBy === actor.name) {
    throw new PermanentError('APPROVER_IS_PROPOSER', `refused: ${actor.name} proposed proposal ${proposal.id}; someone else must decide it (APPROVER_IS_PROPOSER)`);
  }
  if (!(await deps.repo.reject({ proposalId: proposal.id, by: actor.name, reason }))) throw decided(proposal.id);
}

async function pendingProposal(deps: Pick<GalleryDeps, 'repo'>, id: number) {
  const proposal = await deps.repo.proposal(id);
  if (!proposal) throw new PermanentError('PROPOSAL_UNKNOWN', `refused: there is no proposal ${id} (PROPOSAL_UNKNOWN)`);
  if (proposal.status !== 'pending') throw decided(id, proposal.status, proposal.decidedBy);
  return proposal;
}

function decided(id: number, status = 'decided', by?: string | null): PermanentError {
  return new PermanentError('PROPOSAL_DECIDED', `refused: proposal ${id} is already ${status}${by ? ` by ${by}` : ''} (PROPOSAL_DECIDED)`);
}
