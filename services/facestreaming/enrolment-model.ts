import type { EnrolmentLookup } from '../../db/repositories/facestreaming.repository.ts';
import type { FacetrainingRepository } from '../../db/repositories/facetraining.repository.ts';
import { analyzeOrInvalid, type FaceAnalyzer } from '../../shared/face/face-analyzer.ts';

/**
 * An enrolment's stored descriptor is comparable only with descriptors of the same face
 * model: `face_descriptor.model` names the network and the face chip that computed it, and
 * an upgrade (another network, another alignment) moves every distance. A descriptor stored
 * by another model is never compared: the enrolment photo, still in `train_img`, is
 * analysed again by this engine, once per process and enrolment, and that descriptor is
 * used (`reencodedFrom` names the model of the one set aside). A photo that is gone, or in
 * which this engine does not find exactly one face, makes the enrolment unusable.
 */
export type CurrentEnrolment = EnrolmentLookup & { reencodedFrom?: string };

export interface EnrolmentModelDeps {
  trainImages: Pick<FacetrainingRepository, 'findTrainImage'>;
  faces: Pick<FaceAnalyzer, 'analyze' | 'info'>;
}

export interface EnrolmentModels {
  /** The enrolment as this engine's model would have stored it. */
  current(enrolment: EnrolmentLookup): Promise<CurrentEnrolment>;
}

export function enrolmentModels(deps: EnrolmentModelDeps, maxEntries = 1_000): EnrolmentModels {
  // By train_img id: one analysis per enrolment however many snapshots need it. A failed
  // analysis (a face thread died) is not kept, so the next snapshot tries again.
  const known = new Map<number, Promise<CurrentEnrolment>>();
  return {
    current(enrolment) {
      if (enrolment.kind !== 'ready' || enrolment.model === deps.faces.info.model) return Promise.resolve(enrolment);
      const id = enrolment.trainImgId;
      let found = known.get(id);
      if (!found) {
        found = reencode(deps, enrolment);
        if (known.size >= maxEntries) known.delete(known.keys().next().value!);
        known.set(id, found);
        found.catch(() => known.delete(id));
      }
      // `pending` is the lookup's own: it may have changed since the memo was filled.
      return found.then((e) => ({ ...e, pending: enrolment.pending }));
    },
  };
}

async function reencode(deps: EnrolmentModelDeps, stored: Extract<EnrolmentLookup, { kind: 'ready' }>): Promise<CurrentEnrolment> {
  const model = deps.faces.info.model;
  const unusable = (why: string): CurrentEnrolment => ({ pending: stored.pending, kind: 'failed', trainImgId: stored.trainImgId, result: `stored by ${stored.model}; ${why}`, reencodedFrom: stored.model });
  const row = await deps.trainImages.findTrainImage(stored.trainImgId);
  if (!row?.image) return unusable('the enrolment photo is gone');
  const analysed = await analyzeOrInvalid(deps.faces, row.image);
  if ('invalid' in analysed) return unusable(`the enrolment photo no longer reads: ${analysed.invalid}`);
  const faces = analysed.analysis.faces;
  if (faces.length !== 1) return unusable(`${model} finds ${faces.length} faces in the enrolment photo`);
  return { pending: stored.pending, kind: 'ready', trainImgId: stored.trainImgId, descriptor: faces[0]!.descriptor, model, reencodedFrom: stored.model };
}
