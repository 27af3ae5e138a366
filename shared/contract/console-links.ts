/**
 * The console's deep links (CONTRACT.md "Console"): `/review/snapshot/<stream_img id>`,
 * `/review/enrolment/<train_img id>`, `/employees/<lan_id>`. Written once here, so the
 * alerts that carry them and the console's own pages agree on the paths.
 */
export interface ConsoleLinks {
  /** The review queue (`/review`): what the supervisors' digest points to. */
  queue(): string;
  snapshot(streamImgId: number): string;
  enrolment(trainImgId: number): string;
  employee(lanId: string): string;
}

/**
 * A lan_id as one path segment (`/`, `?`, `#` and the rest encoded), for a page's template,
 * whose link rule wants the path itself written in the template
 * (`href="/employees/<%= it.segment %>"`). A lan_id of dots alone has no path: browsers read
 * `..` and `%2E%2E` alike as the parent folder (WHATWG URL).
 */
export function lanIdSegment(lanId: string): string {
  return encodeURIComponent(lanId);
}

/** The paths alone, for links inside the console. */
export const consolePaths: ConsoleLinks = {
  queue: () => '/review',
  snapshot: (id) => `/review/snapshot/${id}`,
  enrolment: (id) => `/review/enrolment/${id}`,
  employee: (lanId) => `/employees/${lanIdSegment(lanId)}`,
};

/**
 * Absolute links under `CONSOLE_URL` as people reach it: a trailing slash or none, and a
 * path prefix behind a proxy (`https://host/vigil/`) kept; a query or fragment dropped (it
 * would end up between the prefix and the path).
 */
export function consoleLinks(base: string): ConsoleLinks {
  const u = new URL(base);
  const root = `${u.origin}${u.pathname.replace(/\/+$/, '')}`;
  return {
    queue: () => root + consolePaths.queue(),
    snapshot: (id) => root + consolePaths.snapshot(id),
    enrolment: (id) => root + consolePaths.enrolment(id),
    employee: (lanId) => root + consolePaths.employee(lanId),
  };
}
