import { consoleUserRepository } from '../../../db/repositories/console-user.repository.ts';
import { identityRepository } from '../../../db/repositories/identity.repository.ts';
import { acceptDuplicate } from '../../../shared/gallery/accept-duplicate.ts';
import type { CliContext } from '../context.ts';

export async function run(ctx: CliContext, trainImgId: number, opts: { by: string; reason?: string; json?: boolean }): Promise<void> {
  // The publisher's clients load while the decision is written.
  ctx.preloadPublisher();
  const done = await ctx.withDatabase((db) =>
    acceptDuplicate(
      {
        users: consoleUserRepository(db),
        identities: identityRepository(db),
        // After the commit; if the broker is down the row waits in N for `vigil rescue`.
        requeue: (id) => ctx.withPublisher((p) => p.publish('facetraining', { id })).then(() => undefined),
      },
      { trainImgId, by: opts.by, reason: opts.reason },
    ),
  );
  ctx.print(!!opts.json, done, () =>
    `train_img ${done.trainImgId} (${done.lanId}) accepted by ${done.acceptedBy} as a different person from ${done.otherLanId}` +
      `${done.recorded ? '' : ' (the pair was already recorded)'}; queued for facetraining again\n`,
  );
}
