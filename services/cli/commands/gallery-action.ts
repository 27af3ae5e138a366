import { randomUUID } from 'node:crypto';
import { consoleUserRepository } from '../../../db/repositories/console-user.repository.ts';
import { galleryRepository } from '../../../db/repositories/gallery.repository.ts';
import { PermanentError } from '../../../shared/errors.ts';
import { dryRun as dryRunGallery, type DryRunReport } from '../../../shared/gallery/dry-run.ts';
import type { GalleryDeps } from '../../../shared/gallery/gallery-deps.ts';
import { galleryView } from '../../../shared/gallery/gallery-view.ts';
import { notThisEmployee } from '../../../shared/gallery/not-this.ts';
import { approve as approveProposal, propose as proposeFace, reject as rejectProposal } from '../../../shared/gallery/proposals.ts';
import { removeFace, restoreFace } from '../../../shared/gallery/removal.ts';
import { setThreshold, suggestThreshold, thresholdBounds } from '../../../shared/gallery/threshold.ts';
import type { CliContext } from '../context.ts';

type Json = { json?: boolean };

function withGallery<T>(ctx: CliContext, fn: (deps: GalleryDeps) => Promise<T>): Promise<T> {
  const { face } = ctx.config();
  return ctx.withDatabase((db) =>
    fn({
      repo: galleryRepository(db),
      users: consoleUserRepository(db),
      publishTraining: (id) => ctx.withPublisher((p) => p.publish('facetraining', { id }, { messageId: randomUUID() })),
      settings: { threshold: face.matchThreshold, gallerySize: face.gallerySize },
    }),
  );
}

export async function show(ctx: CliContext, lanId: string | undefined, opts: Json): Promise<void> {
  if (lanId === undefined) throw new PermanentError('LAN_ID_REQUIRED', 'vigil gallery needs a lan_id, or a subcommand (see vigil gallery --help)');
  const view = await withGallery(ctx, (d) => galleryView(d, lanId));
  const source = view.thresholdSource;
  ctx.print(!!opts.json, view, () =>
    [
      `gallery of ${lanId}: ${view.entries.length} face(s), threshold ${view.threshold}${typeof source === 'string' ? ' (site default)' : ` (set by ${source.setBy})`}`,
      ...view.entries.map((e) => `  train_img ${e.trainImgId}  ${e.source}${e.fromSnapshot ? ` from stream_img ${e.fromSnapshot}, proposed by ${e.proposedBy}, approved by ${e.approvedBy}` : ''}  ${e.addedAt}${e.compared ? '' : '  (older than the faces compared)'}`),
      ...view.removed.map((e) => `  train_img ${e.trainImgId}  removed by ${e.removedBy} ${e.removedAt}${e.reason ? `: ${e.reason}` : ''}`),
      ...view.proposals.map((p) => `  proposal ${p.id}  stream_img ${p.snapshot} face ${p.face}  by ${p.proposedBy}  ${p.status}${p.decidedBy ? ` by ${p.decidedBy}` : ''}${p.reason ? `: ${p.reason}` : ''}`),
      '',
    ].join('\n'),
  );
}

export async function propose(ctx: CliContext, lanId: string, opts: Json & { snapshot: number; by: string; face?: number }): Promise<void> {
  const r = await withGallery(ctx, (d) => proposeFace(d, { lanId, streamImgId: opts.snapshot, faceIndex: opts.face, by: opts.by }));
  ctx.print(!!opts.json, r, () => `proposal ${r.proposalId}: face ${r.faceIndex} of stream_img ${opts.snapshot} for ${lanId}, waiting for a team lead\n`);
}

export async function approve(ctx: CliContext, proposalId: number, opts: Json & { by: string }): Promise<void> {
  const r = await withGallery(ctx, (d) => approveProposal(d, { proposalId, by: opts.by }));
  ctx.print(!!opts.json, { proposalId, ...r }, () => `proposal ${proposalId} approved: train_img ${r.trainImgId} queued for facetraining\n`);
}

export async function reject(ctx: CliContext, proposalId: number, opts: Json & { by: string; reason: string }): Promise<void> {
  await withGallery(ctx, (d) => rejectProposal(d, { proposalId, by: opts.by, reason: opts.reason }));
  ctx.print(!!opts.json, { proposalId, status: 'rejected' }, () => `proposal ${proposalId} rejected\n`);
}

export async function remove(ctx: CliContext, trainImgId: number, opts: Json & { by: string; reason?: string }): Promise<void> {
  await withGallery(ctx, (d) => removeFace(d, { trainImgId, by: opts.by, reason: opts.reason }));
  ctx.print(!!opts.json, { trainImgId, active: false }, () => `train_img ${trainImgId} is out of the gallery (vigil gallery restore ${trainImgId} puts it back)\n`);
}

export async function restore(ctx: CliContext, trainImgId: number, opts: Json & { by: string }): Promise<void> {
  await withGallery(ctx, (d) => restoreFace(d, { trainImgId, by: opts.by }));
  ctx.print(!!opts.json, { trainImgId, active: true }, () => `train_img ${trainImgId} is back in the gallery\n`);
}

export async function notThis(ctx: CliContext, lanId: string, opts: Json & { snapshot: number; by: string; face?: number }): Promise<void> {
  const r = await withGallery(ctx, (d) => notThisEmployee(d, { lanId, streamImgId: opts.snapshot, faceIndex: opts.face, by: opts.by }));
  ctx.print(!!opts.json, { lanId, streamImgId: opts.snapshot, ...r }, () => `face ${r.faceIndex} of stream_img ${opts.snapshot} recorded as not ${lanId}\n`);
}

export async function threshold(ctx: CliContext, lanId: string, value: number | 'default' | undefined, opts: Json & { by?: string; reason?: string }): Promise<void> {
  await withGallery(ctx, async (d) => {
    if (value !== undefined) {
      if (!opts.by) throw new PermanentError('BY_REQUIRED', 'refused: setting a threshold needs --by <user> (a team lead) (BY_REQUIRED)');
      await setThreshold(d, { lanId, threshold: value === 'default' ? null : value, by: opts.by, reason: opts.reason });
    }
    const [own, suggestion] = await Promise.all([d.repo.threshold(lanId), suggestThreshold(d, lanId)]);
    const doc = { lanId, threshold: own?.threshold ?? d.settings.threshold, source: own ? 'employee' : 'default', bounds: thresholdBounds(d.settings.threshold), suggestion };
    ctx.print(!!opts.json, doc, () =>
      [
        `${lanId}: threshold ${doc.threshold} (${doc.source}; bounds ${doc.bounds.min}–${doc.bounds.max})`,
        `suggested: ${suggestion.suggested ?? 'the site threshold'} (${suggestion.why}; ${suggestion.genuine.count} recent matches, ${suggestion.notThis.count} faces said not to be them${suggestion.wouldReject === null ? '' : `; would reject ${(suggestion.wouldReject * 100).toFixed(1)}% of the matches`})`,
        '',
      ].join('\n'),
    );
  });
}

export async function dryRun(ctx: CliContext, lanId: string, opts: Json & { last: number; threshold?: number; addProposal?: number[]; remove?: number[]; restore?: number[] }): Promise<void> {
  const report = await withGallery(ctx, (d) => dryRunGallery(d, lanId, { threshold: opts.threshold, addProposals: opts.addProposal, remove: opts.remove, restore: opts.restore }, opts.last));
  ctx.print(!!opts.json, report, () => dryRunText(report));
}

function dryRunText(r: DryRunReport): string {
  const lines = [
    `dry run for ${r.lanId}: ${r.rescored} of ${r.snapshots} snapshots re-scored${r.notRescorable ? ` (${r.notRescorable} judged before faces were kept with their model)` : ''}; nothing written`,
    `threshold ${r.threshold.now} → ${r.threshold.proposed}; gallery [${r.gallery.now.join(', ')}] → [${r.gallery.proposed.join(', ')}]`,
    r.changes.length === 0 ? 'no result would change' : `${r.changes.length} result(s) would change: ${Object.entries(r.summary).map(([k, n]) => `${k} ×${n}`).join(', ')}`,
    ...r.changes.map((c) => `  stream_img ${c.streamImgId} ${c.captureTime}: ${c.now.result} (${c.now.distance}) → ${c.proposed.result} (${c.proposed.distance})`),
    '',
  ];
  return lines.join('\n');
}
