import type { Kysely } from 'kysely';
import { listAudit } from '../../db/repositories/audit.repository.ts';
import type { EmployeeRepository } from '../../db/repositories/employee.repository.ts';
import type { Database } from '../../db/schema.ts';
import { lanIdSegment } from '../../shared/contract/console-links.ts';
import type { GalleryDeps } from '../../shared/gallery/gallery-deps.ts';
import { galleryView } from '../../shared/gallery/gallery-view.ts';
import { suggestThreshold, thresholdBounds } from '../../shared/gallery/threshold.ts';
import { fmt } from './format.ts';
import { chartWindow, GROUP_LABELS, RESULT_GROUPS, resultsChart } from './results-chart.ts';

export interface EmployeeViewDeps {
  db: Kysely<Database>;
  employees: EmployeeRepository;
  gallery: Pick<GalleryDeps, 'repo' | 'settings'>;
}

/** How many of the employee's alerts the page lists. */
export const ALERTS_SHOWN = 50;
/** Enough of an employee's audit entries of one action to date their gallery's decisions. */
const AUDIT_LOOKBACK = 200;

const pct = (n: number | null) => (n === null ? '—' : `${(n * 100).toFixed(1)}%`);

/** The employee's gallery as the page shows it: each face's provenance and who decided, when. */
export async function galleryFacts(deps: EmployeeViewDeps, lanId: string) {
  const [view, restores] = await Promise.all([
    galleryView(deps.gallery, lanId),
    listAudit(deps.db, { lanId, action: 'gallery.restore', limit: AUDIT_LOOKBACK }),
  ]);
  // The audit log dates the last undo of a removal (the face's row keeps only the removal).
  const restored = new Map<string, { by: string; at: string }>();
  for (const r of restores) if (r.subject !== null && !restored.has(r.subject)) restored.set(r.subject, { by: r.actor, at: r.at.toISOString() });
  const proposalOf = new Map(view.proposals.filter((p) => p.trainImgId !== null).map((p) => [p.trainImgId!, p]));
  const face = (e: (typeof view.entries)[number] | (typeof view.removed)[number]) => {
    const p = proposalOf.get(e.trainImgId);
    return {
      trainImgId: e.trainImgId,
      fromReview: e.source === 'review',
      fromSnapshot: e.fromSnapshot,
      proposedBy: e.proposedBy ?? '',
      proposedAt: p?.proposedAt ?? '',
      approvedBy: e.approvedBy ?? '',
      approvedAt: p?.decidedAt ?? '',
      addedAt: e.addedAt,
      restored: restored.get(`train_img:${e.trainImgId}`) ?? null,
    };
  };
  return {
    faces: view.entries.map((e) => ({ ...face(e), compared: e.compared })),
    removed: view.removed.map((e) => ({ ...face(e), removedBy: e.removedBy, removedAt: e.removedAt, reason: e.reason ?? '' })),
    pending: view.proposals.filter((p) => p.status === 'pending').length,
    own: typeof view.thresholdSource === 'string' ? null : { value: view.threshold, ...view.thresholdSource, reason: view.thresholdSource.reason ?? '' },
  };
}

/** Everything the employee page shows, formatted once here for views/employee.eta. */
export async function employeePageData(deps: EmployeeViewDeps, lanId: string, opts: { now: Date; days: number }) {
  const window = chartWindow(opts.now, opts.days);
  const [gallery, suggestion, counts, alerts] = await Promise.all([
    galleryFacts(deps, lanId),
    suggestThreshold(deps.gallery, lanId),
    deps.employees.resultsPerDay(lanId, window.from, window.to),
    deps.employees.alerts(lanId, ALERTS_SHOWN),
  ]);
  const site = deps.gallery.settings.threshold;
  const bounds = thresholdBounds(site);
  const chart = resultsChart(counts, window.days);
  return {
    lanId,
    path: lanIdSegment(lanId),
    gallery,
    threshold: {
      site: fmt(site, 3),
      own: gallery.own && { value: fmt(gallery.own.value, 3), setBy: gallery.own.setBy, setAt: gallery.own.setAt, reason: gallery.own.reason },
      min: bounds.min,
      max: bounds.max,
      suggested: suggestion.suggested === null ? '' : fmt(suggestion.suggested, 3),
      why: suggestion.why,
      genuineCount: suggestion.genuine.count,
      genuineP99: fmt(suggestion.genuine.p99, 3),
      notThisCount: suggestion.notThis.count,
      notThisNearest: fmt(suggestion.notThis.nearest, 3),
      wouldReject: pct(suggestion.wouldReject),
    },
    days: opts.days,
    dayChoices: [7, 30, 90, 365],
    chart,
    chartGroups: RESULT_GROUPS.map((g) => ({ group: g, label: GROUP_LABELS[g] })),
    alerts: alerts.map((a) => ({ id: a.id, streamImgId: a.streamImgId, kind: a.kind, state: a.state, createdAt: a.createdAt.toISOString() })),
    alertsShown: ALERTS_SHOWN,
  };
}
