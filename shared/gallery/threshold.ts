import { requireActor } from '../accounts/actor.ts';
import { PermanentError } from '../errors.ts';
import type { GalleryDeps } from './gallery-deps.ts';
import { activeFaces, distanceToGallery, galleryModel, isMatch, rescore } from './rescore.ts';
import { keptReason } from './reason.ts';

/**
 * How far an employee's own threshold may move from the site's (FACE_MATCH_THRESHOLD):
 * tighter by up to 0.15 (at 0.45 the real photos still verify 90% of genuine pairs in
 * the accuracy bench), looser by up to 0.05, the duplicate check's margin: a looser
 * threshold would accept faces that check counts as another person.
 */
export const THRESHOLD_TIGHTER = 0.15;
export const THRESHOLD_LOOSER = 0.05;

export function thresholdBounds(siteThreshold: number): { min: number; max: number } {
  return { min: round(siteThreshold - THRESHOLD_TIGHTER), max: round(siteThreshold + THRESHOLD_LOOSER) };
}

/** A team lead sets (or, with `null`, clears) an employee's own threshold, within the bounds; audited. */
export async function setThreshold(deps: Pick<GalleryDeps, 'repo' | 'users' | 'settings'>, p: { lanId: string; threshold: number | null; by: string; reason?: string }): Promise<void> {
  const actor = await requireActor(deps.users, p.by, 'teamlead');
  if (p.threshold !== null) {
    const b = thresholdBounds(deps.settings.threshold);
    if (!Number.isFinite(p.threshold) || p.threshold < b.min || p.threshold > b.max) {
      throw new PermanentError('THRESHOLD_OUT_OF_BOUNDS', `refused: ${p.threshold} is outside ${b.min}–${b.max}, the bounds around the site's threshold ${deps.settings.threshold} (THRESHOLD_OUT_OF_BOUNDS)`);
    }
  }
  if ((await deps.repo.entries(p.lanId)).length === 0) {
    throw new PermanentError('GALLERY_EMPTY', `refused: ${JSON.stringify(p.lanId)} has no accepted enrolment, so no threshold to set (GALLERY_EMPTY)`);
  }
  await deps.repo.setThreshold({ lanId: p.lanId, threshold: p.threshold, by: actor.name, reason: keptReason(p.reason) });
}

export interface ThresholdSuggestion {
  /** Null without enough history to suggest anything but the site's threshold. */
  suggested: number | null;
  why: string;
  genuine: { count: number; p99: number | null };
  notThis: { count: number; nearest: number | null };
  /** Of the genuine distances, the share the suggestion would reject. */
  wouldReject: number | null;
}

/** Fewer matches than this say too little about the employee's spread. */
const MIN_GENUINE = 20;

/**
 * A threshold from the employee's own history: their recent matched snapshots (genuine,
 * re-scored against the gallery as it is) and the faces supervisors said are not them
 * (impostors). With no such face there is nothing to tighten against and the site's
 * threshold stands. With some, the suggestion sits just under the nearest of them (turning
 * every one away), and says what share of the employee's own matches that would reject.
 * Pure: `suggestFromDistances` does the arithmetic.
 */
export async function suggestThreshold(deps: Pick<GalleryDeps, 'repo' | 'settings'>, lanId: string, last = 200): Promise<ThresholdSuggestion> {
  const entries = await deps.repo.entries(lanId);
  const model = galleryModel(entries);
  if (!model) return suggestFromDistances([], [], deps.settings.threshold);
  const gallery = activeFaces(entries, deps.settings.gallerySize).filter((e) => e.model === model);
  const notThis = (await deps.repo.notThisFaces(lanId)).filter((n) => n.model === model);
  const own = await deps.repo.threshold(lanId);
  const current = own?.threshold ?? deps.settings.threshold;
  const genuine: number[] = [];
  for (const s of await deps.repo.recentSnapshots(lanId, last)) {
    if (!isMatch(s.result) || notThis.some((n) => n.streamImgId === s.id)) continue;
    const r = rescore(s, model, gallery, [], current);
    if (r?.distance != null) genuine.push(r.distance);
  }
  const impostor = notThis.map((n) => distanceToGallery(gallery, n.descriptor));
  return suggestFromDistances(genuine, impostor, deps.settings.threshold);
}

export function suggestFromDistances(genuine: number[], impostor: number[], siteThreshold: number): ThresholdSuggestion {
  const b = thresholdBounds(siteThreshold);
  const sorted = [...genuine].sort((a, c) => a - c);
  const p99 = sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.ceil(0.99 * sorted.length) - 1)]!;
  const nearest = impostor.length === 0 ? null : Math.min(...impostor);
  const base = { genuine: { count: genuine.length, p99: p99 === null ? null : round(p99) }, notThis: { count: impostor.length, nearest: nearest === null ? null : round(nearest) } };
  const rejectShare = (t: number) => (sorted.length === 0 ? null : round(sorted.filter((d) => d > t).length / sorted.length));
  if (nearest === null) {
    return { ...base, suggested: null, why: 'no face was said not to be this employee: the site threshold stands', wouldReject: rejectShare(siteThreshold) };
  }
  if (sorted.length < MIN_GENUINE) {
    return { ...base, suggested: null, why: `only ${sorted.length} recent matches (${MIN_GENUINE} needed) to weigh a change against`, wouldReject: null };
  }
  const under = Math.min(siteThreshold, Math.max(b.min, Math.floor((nearest - 0.01) * 100) / 100));
  return {
    ...base,
    suggested: under,
    why: under >= siteThreshold ? 'every face said not to be this employee is already turned away at the site threshold' : `just under the nearest face said not to be this employee (${round(nearest)})`,
    wouldReject: rejectShare(under),
  };
}

const round = (v: number) => Math.round(v * 1000) / 1000;
