import type { ConsoleUserRepository } from '../../db/repositories/console-user.repository.ts';
import type { IdentityRepository } from '../../db/repositories/identity.repository.ts';
import { requireActor } from '../accounts/actor.ts';
import { PermanentError } from '../errors.ts';
import { keptReason } from './reason.ts';

export interface AcceptDuplicateDeps {
  users: Pick<ConsoleUserRepository, 'findByName'>;
  identities: IdentityRepository;
  /** Publishes the train_img id to facetraining, after the commit. */
  requeue(trainImgId: number): Promise<void>;
}

export interface AcceptDuplicateResult {
  trainImgId: number;
  lanId: string;
  /** The employee the face was close to, now recorded as a different person. */
  otherLanId: string;
  /** False when the pair had been accepted before (another enrolment of theirs). */
  recorded: boolean;
  acceptedBy: string;
}

/**
 * A team lead's decision that a DUPLICATE_IDENTITY enrolment is a different person from the
 * employee its face was close to (`vigil gallery accept-duplicate`, and the console): the
 * pair is recorded in identity_distinct with an audit entry, the enrolment goes back to
 * `N` in the same transaction, and facetraining checks it again. It then passes unless it
 * is close to yet another employee.
 */
export async function acceptDuplicate(deps: AcceptDuplicateDeps, a: { trainImgId: number; by: string; reason?: string }): Promise<AcceptDuplicateResult> {
  const actor = await requireActor(deps.users, a.by, 'teamlead');
  const found = await deps.identities.findDuplicate(a.trainImgId);
  if (!found) throw new PermanentError('TRAIN_IMG_UNKNOWN', `refused: there is no train_img ${a.trainImgId} (TRAIN_IMG_UNKNOWN)`);
  if (found.result !== 'DUPLICATE_IDENTITY') {
    throw new PermanentError('NOT_A_DUPLICATE', `refused: train_img ${a.trainImgId} is ${found.status}/${found.result ?? 'no result'}, not DUPLICATE_IDENTITY (NOT_A_DUPLICATE)`);
  }
  const duplicateOf = duplicateOfDetail(found.detail);
  if (!duplicateOf) throw new PermanentError('DUPLICATE_DETAIL_MISSING', `refused: train_img ${a.trainImgId} has no attempt naming the employee it matched (DUPLICATE_DETAIL_MISSING)`);
  const done = await deps.identities.acceptDuplicate({
    trainImgId: a.trainImgId,
    lanId: found.lanId,
    otherLanId: duplicateOf.lanId,
    by: actor.name,
    reason: keptReason(a.reason),
    duplicateOf,
  });
  // Someone decided first (or the row changed): nothing was written, nothing is published.
  if (!done.reset) throw new PermanentError('NOT_A_DUPLICATE', `refused: train_img ${a.trainImgId} is no longer DUPLICATE_IDENTITY (NOT_A_DUPLICATE)`);
  await deps.requeue(a.trainImgId);
  return { trainImgId: a.trainImgId, lanId: found.lanId, otherLanId: duplicateOf.lanId, recorded: done.recorded, acceptedBy: actor.name };
}

/** `process_status.detail.duplicateOf` as facetraining writes it (services/facetraining/handler.ts). */
function duplicateOfDetail(detail: unknown): { lanId: string; trainImgId: number; distance: number } | undefined {
  const d = (detail as { duplicateOf?: { lanId?: unknown; trainImgId?: unknown; distance?: unknown } } | null)?.duplicateOf;
  if (!d || typeof d.lanId !== 'string') return undefined;
  return { lanId: d.lanId, trainImgId: Number(d.trainImgId), distance: Number(d.distance) };
}
