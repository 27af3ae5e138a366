import type { ConsoleUserRepository } from '../../db/repositories/console-user.repository.ts';
import type { GalleryRepository } from '../../db/repositories/gallery.repository.ts';

/**
 * What the gallery's decisions need: the same for `vigil gallery …` and the console. Each
 * decision takes the part it uses.
 */
export interface GalleryDeps {
  repo: GalleryRepository;
  users: Pick<ConsoleUserRepository, 'findByName'>;
  /** Publishes a committed `train_img` id to facetraining. */
  publishTraining(trainImgId: number): Promise<void>;
  settings: {
    /** FACE_MATCH_THRESHOLD. */
    threshold: number;
    /** FACE_GALLERY_SIZE: how many of the newest active faces a snapshot is compared with. */
    gallerySize: number;
  };
}
