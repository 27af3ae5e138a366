import type { GalleryFace, GalleryLookup } from '../../db/repositories/facestreaming.repository.ts';
import type { FacetrainingRepository } from '../../db/repositories/facetraining.repository.ts';
import { analyzeOrInvalid, type FaceAnalyzer } from '../../shared/face/face-analyzer.ts';

/**
 * A stored descriptor is comparable only with descriptors of the same face model:
 * `face_descriptor.model` names the network and the face chip that computed it, and an
 * upgrade (another network, another alignment) moves every distance. A gallery face stored
 * by another model is never compared: its photo, still in `train_img`, is analysed again by
 * this engine, once per process and face, and that descriptor is used (`reencoded` names
 * the models set aside). A photo that is gone, or in which this engine does not find
 * exactly one face, leaves the gallery (`unusable`); when no face is left the gallery is
 * unusable as a whole. A face said not to be the employee under another model cannot be
 * analysed again (a snapshot's other faces would be guesswork) and is left out (`notThisSkipped`).
 */
export type CurrentGallery = GalleryLookup & {
  reencoded?: { trainImgId: number; from: string }[];
  unusable?: { trainImgId: number; why: string }[];
  notThisSkipped?: number;
};

export interface GalleryModelDeps {
  trainImages: Pick<FacetrainingRepository, 'findTrainImage'>;
  faces: Pick<FaceAnalyzer, 'analyze' | 'info'>;
}

export interface GalleryModels {
  /** The gallery as this engine's model would have stored it. */
  current(gallery: GalleryLookup): Promise<CurrentGallery>;
}

type Reencoded = { ok: true; descriptor: Float32Array } | { ok: false; why: string };

export function galleryModels(deps: GalleryModelDeps, maxEntries = 1_000): GalleryModels {
  // By train_img id: one analysis per face however many snapshots need it. A failed
  // analysis (a face thread died) is not kept, so the next snapshot tries again.
  const known = new Map<number, Promise<Reencoded>>();
  const reencoded = (face: GalleryFace) => {
    let found = known.get(face.trainImgId);
    if (!found) {
      found = reencode(deps, face.trainImgId);
      if (known.size >= maxEntries) known.delete(known.keys().next().value!);
      known.set(face.trainImgId, found);
      found.catch(() => known.delete(face.trainImgId));
    }
    return found;
  };
  return {
    async current(gallery) {
      const model = deps.faces.info.model;
      if (gallery.kind !== 'ready') return gallery;
      if (gallery.faces.every((f) => f.model === model) && gallery.notThis.every((n) => n.model === model)) return gallery;
      const faces: GalleryFace[] = [];
      const moved: { trainImgId: number; from: string }[] = [];
      const unusable: { trainImgId: number; why: string }[] = [];
      for (const f of gallery.faces) {
        if (f.model === model) {
          faces.push(f);
          continue;
        }
        const r = await reencoded(f);
        if (r.ok) {
          faces.push({ trainImgId: f.trainImgId, descriptor: r.descriptor, model });
          moved.push({ trainImgId: f.trainImgId, from: f.model });
        } else {
          unusable.push({ trainImgId: f.trainImgId, why: `stored by ${f.model}; ${r.why}` });
        }
      }
      const notThis = gallery.notThis.filter((n) => n.model === model);
      const extra = {
        ...(moved.length > 0 && { reencoded: moved }),
        ...(unusable.length > 0 && { unusable }),
        ...(notThis.length < gallery.notThis.length && { notThisSkipped: gallery.notThis.length - notThis.length }),
      };
      if (faces.length === 0) {
        const newest = unusable[0]!;
        return { pending: gallery.pending, threshold: gallery.threshold, kind: 'failed', trainImgId: newest.trainImgId, result: newest.why, ...extra };
      }
      return { ...gallery, faces, notThis, ...extra };
    },
  };
}

async function reencode(deps: GalleryModelDeps, trainImgId: number): Promise<Reencoded> {
  const row = await deps.trainImages.findTrainImage(trainImgId);
  if (!row?.image) return { ok: false, why: 'the enrolment photo is gone' };
  const analysed = await analyzeOrInvalid(deps.faces, row.image);
  if ('invalid' in analysed) return { ok: false, why: `the enrolment photo no longer reads: ${analysed.invalid}` };
  const faces = analysed.analysis.faces;
  if (faces.length !== 1) return { ok: false, why: `${deps.faces.info.model} finds ${faces.length} faces in the enrolment photo` };
  return { ok: true, descriptor: faces[0]!.descriptor };
}
