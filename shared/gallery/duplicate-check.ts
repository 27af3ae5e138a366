import type { GalleryFacesRepository } from '../../db/repositories/gallery-faces.repository.ts';
import type { Logger } from '../logger.ts';
import { GalleryIndex } from './gallery-index.ts';

/**
 * The duplicate-identity check (issue 26, CONTRACT.md `DUPLICATE_IDENTITY`): is an accepted
 * enrolment's face closer than `bound` to a gallery face of another employee?
 *
 * The search runs over an in-memory index of every gallery descriptor of this engine's model
 * (gallery-index.ts), kept current by one query per check for the rows added since the last
 * one, so the check costs milliseconds at 100,000 faces instead of a scan of the table.
 * The index may hold faces that are gone (deleted with their employee, removed, or of a
 * pair a team lead accepted), so a hit is only a candidate: the database confirms it before
 * anything is decided. A full reload every `reloadEveryMs`, in the background, drops
 * deleted rows from memory.
 */
export interface DuplicateCheckDeps {
  faces: GalleryFacesRepository;
  /** This engine's model (`faces.info.model`): descriptors of another are not comparable. */
  model: string;
  /** matchThreshold − duplicateMargin (shared/config/face-config.ts says why). */
  bound: number;
  log: Pick<Logger, 'warn' | 'info'>;
  /** @default one hour */
  reloadEveryMs?: number;
  now?: () => number;
}

export interface DuplicateOf {
  lanId: string;
  trainImgId: number;
  distance: number;
}

export interface DuplicateVerdict {
  /** The closest confirmed face of another employee within the bound; none when the enrolment may be stored. */
  duplicateOf?: DuplicateOf;
  bound: number;
  /** Faces in the index when it searched. */
  faces: number;
  /** The check's time: refresh, search and confirmation. */
  ms: number;
}

export interface DuplicateChecker {
  check(face: { descriptor: ArrayLike<number>; lanId: string; lanIdWeight: string }): Promise<DuplicateVerdict>;
  /**
   * For each face, in order, the closest confirmed face of each of up to `limit` other
   * employees, closest first, however far (no bound): what a team lead weighs beside a
   * proposed face (the console's approvals, a page of them or one). The index is brought up
   * to date and the removed faces read once for all, the searches run one after another
   * (CPU), the confirmations (one query each) concurrently.
   */
  nearestMany(faces: readonly { descriptor: ArrayLike<number>; lanId: string; lanIdWeight: string }[], limit: number): Promise<DuplicateOf[][]>;
  /** Brings the index up to date (the first call loads it all); concurrent callers share the work. */
  refresh(): Promise<void>;
  readonly size: number;
}

/** Rows per load query: a full load of 100,000 faces is 20 queries of 2.5 MB. */
const PAGE = 5000;
/** Employees confirmed per check: the closest of each, closest first. */
const CANDIDATES = 32;
/**
 * A hole in the ids loaded (an id skipped between two loaded rows) may be a transaction
 * that took its id earlier and commits later; it is asked for again until this old. Holes
 * wider than HOLE_WIDTH are deletions, not transactions in flight.
 */
const HOLE_MS = 5 * 60_000;
const HOLE_WIDTH = 64;
const MAX_HOLES = 4096;

/** The state one load fills: the index, the highest id in it, the holes below that. */
interface Loaded {
  index: GalleryIndex;
  afterId: number;
  holes: Map<number, number>;
  loadedAt: number;
}

export function duplicateChecker(deps: DuplicateCheckDeps): DuplicateChecker {
  const now = deps.now ?? Date.now;
  const reloadEveryMs = deps.reloadEveryMs ?? 3600_000;
  let current: Loaded | undefined;
  let running: Promise<GalleryIndex> | undefined;
  let queued: Promise<GalleryIndex> | undefined;
  let rebuilding: Promise<void> | undefined;
  let rebuilt: Loaded | undefined;

  async function loadInto(l: Loaded): Promise<void> {
    const t = now();
    for (const [id, seen] of l.holes) if (t - seen > HOLE_MS) l.holes.delete(id);
    for (;;) {
      const rows = await deps.faces.descriptorsAfter(deps.model, l.afterId, [...l.holes.keys()], PAGE);
      // Ids at or below afterId come back only as holes that have committed since.
      l.index.add(rows.filter((r) => r.descriptorId > l.afterId || l.holes.delete(r.descriptorId)));
      let prev = l.afterId;
      for (const r of rows) {
        if (r.descriptorId <= l.afterId) continue;
        const gap = r.descriptorId - prev;
        if (gap > 1 && gap <= HOLE_WIDTH) for (let id = prev + 1; id < r.descriptorId; id++) l.holes.set(id, t);
        prev = r.descriptorId;
      }
      l.afterId = prev;
      while (l.holes.size > MAX_HOLES) l.holes.delete(l.holes.keys().next().value!);
      if (rows.length < PAGE) return;
    }
  }

  const empty = (): Loaded => ({ index: new GalleryIndex(), afterId: 0, holes: new Map(), loadedAt: now() });

  /** Serialized by `update`: the only place `current` changes, so the index it returns is the one it brought up to date. */
  async function updateOnce(): Promise<GalleryIndex> {
    if (rebuilt) {
      current = rebuilt;
      rebuilt = undefined;
    }
    if (!current) {
      const l = empty();
      await loadInto(l);
      current = l;
      deps.log.info({ faces: l.index.size, model: deps.model }, 'gallery index loaded');
      return l.index;
    }
    const l = current;
    await loadInto(l);
    if (now() - l.loadedAt > reloadEveryMs && !rebuilding) {
      // Built beside the one in use, which keeps answering; taken up by the next update,
      // which brings it up to date before it answers.
      l.loadedAt = now();
      const next = empty();
      rebuilding = loadInto(next)
        .then(() => {
          rebuilt = next;
        })
        .catch((err: unknown) => deps.log.warn({ err }, 'gallery index reload failed; the one in use stays'))
        .finally(() => {
          rebuilding = undefined;
        });
    }
    return l.index;
  }

  // A check must see every face committed before it began: one arriving while an update
  // is under way waits for the next one, which all such arrivals share.
  function update(): Promise<GalleryIndex> {
    if (!running) {
      running = updateOnce().finally(() => {
        running = undefined;
      });
      return running;
    }
    queued ??= running
      .catch(() => undefined)
      .then(() => {
        queued = undefined;
        return update();
      });
    return queued;
  }

  type Face = { descriptor: ArrayLike<number>; lanId: string; lanIdWeight: string };

  /**
   * Each face's candidates within `bound`, closest first, kept only when the database
   * confirms them. The search keeps the CANDIDATES closest employees (its bound shrinks to
   * the farthest of them), so an unconfirmed one leaves the next in its place.
   */
  async function confirmedHits(faces: readonly Face[], bound: number): Promise<{ hits: DuplicateOf[][]; faces: number }> {
    const [index, removedIds] = await Promise.all([update(), deps.faces.removedTrainImgIds()]);
    const removed = new Set(removedIds);
    const found = faces.map((face) => index.search({ descriptor: face.descriptor, lanIdWeight: face.lanIdWeight, bound, removed, limit: CANDIDATES }));
    const hits = await Promise.all(
      found.map(async (candidates, i) => {
        if (candidates.length === 0) return [];
        const confirmed = new Map((await deps.faces.confirmOthers(candidates.map((h) => h.descriptorId), faces[i]!.lanId, deps.model)).map((c) => [c.descriptorId, c]));
        return candidates.flatMap((h) => {
          const c = confirmed.get(h.descriptorId);
          return c ? [{ lanId: c.lanId, trainImgId: c.trainImgId, distance: round4(h.distance) }] : [];
        });
      }),
    );
    return { hits, faces: index.size };
  }

  return {
    refresh: () => update().then(() => undefined),
    get size() {
      return current?.index.size ?? 0;
    },
    async check(face) {
      const t0 = performance.now();
      const { hits, faces } = await confirmedHits([face], deps.bound);
      return { duplicateOf: hits[0]![0], bound: round4(deps.bound), faces, ms: Math.round((performance.now() - t0) * 100) / 100 };
    },
    async nearestMany(faces, limit) {
      if (faces.length === 0) return [];
      return (await confirmedHits(faces, Infinity)).hits.map((h) => h.slice(0, limit));
    },
  };
}

const round4 = (v: number) => Math.round(v * 10_000) / 10_000;
