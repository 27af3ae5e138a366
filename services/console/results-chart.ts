/**
 * The employee page's timeline of results per day: a view model of numbers that
 * views/employee.eta draws as an inline SVG of stacked bars (the template engine escapes
 * every value, so the SVG is written in the template, not here), and the same numbers as a
 * table. Pure: the counts come in, coordinates and labels go out.
 */

/** The groups a day's bar is stacked from, bottom first. */
export const RESULT_GROUPS = ['success', 'unknown', 'impersonation', 'no-face', 'other'] as const;
export type ResultGroup = (typeof RESULT_GROUPS)[number];

export const GROUP_LABELS: Record<ResultGroup, string> = {
  success: 'Success',
  unknown: 'Unknown person',
  impersonation: 'Impersonation suspected',
  'no-face': 'No face',
  other: 'Other',
};

const GROUP_OF: Record<string, ResultGroup> = {
  SUCCESS: 'success',
  SUCCESS_MULTIPLE_FACES: 'success',
  UNKNOWN_PERSON: 'unknown',
  UNKNOWN_MULTIPLE_FACES: 'unknown',
  IMPERSONATION_SUSPECTED: 'impersonation',
  NO_FACES_FOUND: 'no-face',
};

/** A snapshot result's group: NO_TRAINING_IMAGE, TRAINING_IMAGE_FAILED, INVALID_IMAGE and anything new are `other`. */
export function resultGroup(result: string): ResultGroup {
  return GROUP_OF[result] ?? 'other';
}

export const MIN_DAYS = 7;
export const MAX_DAYS = 365;
export const DEFAULT_DAYS = 30;

const DAY_MS = 86_400_000;

/** The window of `days` UTC days that ends with `now`'s day: [from, to) and each day as `YYYY-MM-DD`, oldest first. */
export function chartWindow(now: Date, days: number): { from: Date; to: Date; days: string[] } {
  const to = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) + DAY_MS;
  const from = to - days * DAY_MS;
  return { from: new Date(from), to: new Date(to), days: Array.from({ length: days }, (_, i) => new Date(from + i * DAY_MS).toISOString().slice(0, 10)) };
}

export interface ChartSegment {
  group: ResultGroup;
  count: number;
  y: number;
  height: number;
}

export interface ChartBar {
  day: string;
  x: number;
  width: number;
  total: number;
  /** What a pointer over the bar shows (the SVG `<title>`). */
  title: string;
  /** Bottom first; groups with no snapshot that day are left out. */
  segments: ChartSegment[];
}

export interface ResultsChart {
  width: number;
  height: number;
  /** The plot area inside the axes. */
  plot: { left: number; top: number; right: number; bottom: number };
  bars: ChartBar[];
  /** Gridlines and labels of the count axis, 0 first. */
  yTicks: { y: number; label: string }[];
  /** Date labels under the bars: a few, the last day always. */
  xLabels: { x: number; label: string }[];
  legend: { group: ResultGroup; label: string; total: number }[];
  /** The table equivalent: one row per day, oldest first. */
  rows: { day: string; counts: number[]; total: number }[];
  total: number;
}

const WIDTH = 720;
const HEIGHT = 240;
const MARGIN = { left: 44, top: 12, right: 8, bottom: 28 };
const round = (v: number) => Math.round(v * 100) / 100;

/** The smallest 1, 2 or 5 × 10^k step that covers `max` in at most four ticks. */
export function tickStep(max: number): number {
  if (max <= 4) return 1;
  const rough = max / 4;
  const pow = 10 ** Math.floor(Math.log10(rough));
  for (const m of [1, 2, 5, 10]) if (m * pow >= rough) return m * pow;
  return 10 * pow;
}

/**
 * Lays out one stacked bar per day of `days` (oldest first) from the counts per day and
 * result; a count for a day outside `days` is left out.
 */
export function resultsChart(counts: readonly { day: string; result: string; count: number }[], days: readonly string[]): ResultsChart {
  const index = new Map(days.map((d, i) => [d, i]));
  const perDay = days.map(() => RESULT_GROUPS.map(() => 0));
  for (const c of counts) {
    const i = index.get(c.day);
    if (i === undefined || c.count <= 0) continue;
    perDay[i]![RESULT_GROUPS.indexOf(resultGroup(c.result))]! += c.count;
  }
  const totals = perDay.map((g) => g.reduce((a, b) => a + b, 0));
  const step = tickStep(Math.max(0, ...totals));
  const top = Math.max(step, Math.ceil(Math.max(0, ...totals) / step) * step);
  const plot = { left: MARGIN.left, top: MARGIN.top, right: WIDTH - MARGIN.right, bottom: HEIGHT - MARGIN.bottom };
  const plotHeight = plot.bottom - plot.top;
  const slot = (plot.right - plot.left) / Math.max(1, days.length);
  const barWidth = Math.max(1, slot * 0.8);
  const yOf = (count: number) => plot.bottom - (count / top) * plotHeight;

  const bars: ChartBar[] = days.map((day, i) => {
    const x = round(plot.left + i * slot + (slot - barWidth) / 2);
    let below = 0;
    const segments: ChartSegment[] = [];
    RESULT_GROUPS.forEach((group, g) => {
      const count = perDay[i]![g]!;
      if (count === 0) return;
      const y0 = yOf(below);
      below += count;
      const y1 = yOf(below);
      segments.push({ group, count, y: round(y1), height: round(y0 - y1) });
    });
    const parts = segments.map((s) => `${s.count} ${GROUP_LABELS[s.group].toLowerCase()}`);
    return {
      day, x, width: round(barWidth), total: totals[i]!, segments,
      title: `${day}: ${totals[i] === 0 ? 'no snapshot judged' : `${totals[i]} snapshot${totals[i] === 1 ? '' : 's'} (${parts.join(', ')})`}`,
    };
  });

  const yTicks: ResultsChart['yTicks'] = [];
  for (let v = 0; v <= top; v += step) yTicks.push({ y: round(yOf(v)), label: String(v) });

  // About eight date labels whatever the window, counted back from the last day so it always has one.
  const every = Math.max(1, Math.ceil(days.length / 8));
  const xLabels = days
    .map((day, i) => ({ i, day }))
    .filter(({ i }) => (days.length - 1 - i) % every === 0)
    .map(({ i, day }) => ({ x: round(plot.left + i * slot + slot / 2), label: day.slice(5) }));

  return {
    width: WIDTH,
    height: HEIGHT,
    plot,
    bars,
    yTicks,
    xLabels,
    legend: RESULT_GROUPS.map((group, g) => ({ group, label: GROUP_LABELS[group], total: perDay.reduce((a, d) => a + d[g]!, 0) })),
    rows: days.map((day, i) => ({ day, counts: perDay[i]!, total: totals[i]! })),
    total: totals.reduce((a, b) => a + b, 0),
  };
}
