import { fail, formatChecks, ok, passed, runChecks, type CheckResult } from '../../../shared/app/checks/check.ts';
import { hostChecks } from '../../../shared/app/checks/service-checks.ts';
import { analyzeOptions } from '../../../shared/app/face-analyzer-for.ts';
import { ConfigError, type Config } from '../../config.ts';
import { describeProblem } from '../../../shared/config/env-reader.ts';
import { startFaceAnalyzer } from '../../../shared/face/face-analyzer.ts';
import { needsOf, resolveServices } from '../../registry.ts';
import type { CliContext } from '../context.ts';

export async function run(ctx: CliContext, names: string[], opts: { json?: boolean }): Promise<void> {
  const services = resolveServices(names, ctx.registry);
  let config: Config;
  let results: CheckResult[];
  try {
    config = ctx.config();
    results = [ok('configuration', `valid, for ${services.join(', ')}`)];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    results = err.problems.map((p) => fail('configuration', describeProblem(p), `fix ${p.variable}`));
    return report(ctx, !!opts.json, results);
  }
  // One thread is enough to tell whether the engine loads; its log lines stay quiet.
  const quiet = ctx.logger().child({}, { level: 'error' });
  const checks = hostChecks(config, needsOf(services, ctx.registry), {
    face: () => startFaceAnalyzer({ backend: config.face.backend, workers: 1, options: analyzeOptions(config.face), logger: quiet }),
    closeFace: true,
  });
  results.push(...(await runChecks(checks)));
  report(ctx, !!opts.json, results);
}

function report(ctx: CliContext, json: boolean, results: CheckResult[]): void {
  const good = passed(results);
  ctx.print(json, { ok: good, checks: results.map(({ name, status, detail, fix }) => (fix ? { name, status, detail, fix } : { name, status, detail })) }, () => formatChecks(results));
  if (!good) ctx.exitCode = 1;
}
