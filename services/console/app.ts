import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import fastifyStatic from '@fastify/static';
import fastifyView from '@fastify/view';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { fileURLToPath } from 'node:url';
import { consoleSessionRepository } from '../../db/repositories/console-session.repository.ts';
import { consoleSigninRepository } from '../../db/repositories/console-signin.repository.ts';
import { consoleUserRepository } from '../../db/repositories/console-user.repository.ts';
import { faceExportRepository, type FaceExportRepository } from '../../db/repositories/face-export.repository.ts';
import { reviewDecisionRepository } from '../../db/repositories/review-decision.repository.ts';
import { reviewQueuesRepository } from '../../db/repositories/review-queues.repository.ts';
import { reviewRepository } from '../../db/repositories/review.repository.ts';
import type { Database } from '../../db/schema.ts';
import { generatePassword, hashPassword } from '../../shared/accounts/password.ts';
import type { ConsoleConfig } from '../../shared/config/console-config.ts';
import { EnvReader } from '../../shared/config/env-reader.ts';
import { readFaceConfig, type FaceConfig } from '../../shared/config/face-config.ts';
import { errorCode } from '../../shared/errors.ts';
import type { LockManager } from '../../shared/lock.ts';
import type { Logger } from '../../shared/logger.ts';
import type { Metrics } from '../../shared/metrics.ts';
import type { Publisher } from '../../shared/runtime/publisher.ts';
import { approvalRoutes } from './approvals.ts';
import { auditRoutes } from './audit.ts';
import { employeeRoutes } from './employees.ts';
import { exportRoutes } from './exports.ts';
import { ASSETS_DIR, HTMX_DIR, consoleViews, renderPage } from './pages.ts';
import { imageRoutes } from './images.ts';
import { reviewBulkRoutes } from './review-bulk.ts';
import { reviewEnrolmentRoutes } from './review-enrolment.ts';
import { reviewRoutes } from './review.ts';
import { consoleRoute } from './route.ts';
import { securityHeaders } from './security-headers.ts';
import { sessionGuard } from './session-guard.ts';
import { signinRoutes } from './signin.ts';
import { thumbnailCache } from './thumbnails.ts';

/** What the console's app is built from; tests build it the same way and use `app.inject`. */
export interface ConsoleDeps {
  db: Kysely<Database>;
  config: ConsoleConfig;
  logger: Logger;
  /** @default () => new Date() */
  now?: () => Date;
  /** The process's metrics, when it runs as a service: `vigil_console_signins_total`. */
  metrics?: Pick<Metrics, 'consoleSigninsTotal'>;
  /** FACE_MATCH_THRESHOLD, FACE_GALLERY_SIZE, FACE_DUPLICATE_MARGIN: the employee page's threshold and gallery, the approvals' distances and dry run. @default their defaults */
  face?: Pick<FaceConfig, 'matchThreshold' | 'gallerySize' | 'duplicateMargin'>;
  /** Queues to facetraining what a team lead approves or accepts; without one, those two decisions are refused. */
  publisher?: Pick<Publisher, 'publish'>;
  /** The face export's reads. @default faceExportRepository(db), what `vigil export faces` reads */
  faceExports?: FaceExportRepository;
  /** The process's locks: deleting an employee takes the employee lock the face services take. Without them it answers 503. */
  locks?: LockManager;
}

/** Declared in route.ts, so the page modules the app registers need not import the app. */
export { consoleRoute };

/** The console's Fastify app: sign-in, sessions, roles, CSRF and security headers, /assets/, and every page (each module registers its own routes). */
export async function buildConsoleApp(deps: ConsoleDeps): Promise<FastifyInstance> {
  const now = deps.now ?? (() => new Date());
  const log = deps.logger.child({ service: 'console' });
  const app: FastifyInstance = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 64 * 1024,
    // A lan_id is one path segment (`/employees/<lan_id>`): 64 characters of up to 4 UTF-8 bytes, each byte %XX.
    routerOptions: { maxParamLength: 64 * 12 },
    trustProxy: deps.config.trustProxy.length > 0 ? deps.config.trustProxy.join(',') : false,
  });
  const sessions = consoleSessionRepository(deps.db);
  // Made now, so the first unknown name takes no longer than the next.
  const decoy = hashPassword(generatePassword());
  decoy.catch(() => undefined);

  // Loaded now (awaited), so that its cookie parsing runs before the guard's hook.
  await app.register(cookie);
  await app.register(formbody);
  // Before the static plugins, so their routes are marked as they are declared: reached without a session, and cacheable.
  app.addHook('onRoute', (route) => {
    if (route.url?.startsWith('/assets/')) route.config = { ...route.config, public: true, asset: true };
  });
  const assets = fileURLToPath(ASSETS_DIR);
  // Of htmx's folder, only htmx.min.js is served.
  await app.register(fastifyStatic, {
    root: [assets, fileURLToPath(HTMX_DIR)], prefix: '/assets/', index: false, maxAge: 3_600_000, decorateReply: false,
    allowedPath: (path, root) => root === assets || path === '/htmx.min.js',
  });
  await app.register(fastifyView, { engine: { eta: consoleViews() } });
  // On the root, not in a plugin of their own: every route, a later one included, goes through them.
  securityHeaders(app, { https: deps.config.secureCookie });
  sessionGuard(app, { sessions, idleMs: deps.config.sessionIdleMs, maxMs: deps.config.sessionMaxMs, now });
  // What every page's header shows (views/_top.eta), for `reply.view`.
  app.addHook('onRequest', async (request, reply) => {
    const s = request.session;
    if (s) reply.locals = { name: s.name, role: s.role, csrfToken: s.csrfToken, grafanaUrl: deps.config.grafanaUrl, metabaseUrl: deps.config.metabaseUrl };
  });
  app.setErrorHandler((err: { statusCode?: number }, request, reply) => {
    const status = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) request.log.error({ err, code: errorCode(err), url: request.routeOptions.url }, 'console request failed');
    return reply.code(status).type('text/plain; charset=utf-8').send(status === 500 ? 'Something went wrong.\n' : 'Bad request.\n');
  });
  app.setNotFoundHandler((_request, reply) => reply.code(404).type('text/plain; charset=utf-8').send('Not found.\n'));
  signinRoutes(app, {
    db: deps.db, users: consoleUserRepository(deps.db), sessions, signins: consoleSigninRepository(deps.db),
    config: deps.config, log, now, decoyHash: () => decoy, signinsTotal: deps.metrics?.consoleSigninsTotal,
  });
  consoleRoute(app, {
    method: 'GET', url: '/', role: 'viewer',
    handler: async (_request, reply) => renderPage(reply, 'home', {}),
  });
  // An app built without them (tests of other pages): the settings' defaults, read from an empty environment.
  const face = deps.face ?? readFaceConfig(new EnvReader({}));
  const review = reviewRepository(deps.db);
  const reviewDeps = { db: deps.db, review, queues: reviewQueuesRepository(deps.db), decisions: reviewDecisionRepository(deps.db) };
  reviewRoutes(app, reviewDeps);
  reviewEnrolmentRoutes(app, reviewDeps);
  reviewBulkRoutes(app, reviewDeps);
  imageRoutes(app, { review, thumbs: thumbnailCache(500) });
  approvalRoutes(app, { ...deps, face });
  employeeRoutes(app, { db: deps.db, face, locks: deps.locks, now });
  exportRoutes(app, { db: deps.db, repo: deps.faceExports ?? faceExportRepository(deps.db), now });
  auditRoutes(app, { db: deps.db });
  return app;
}
