import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import { createMetrics } from '../../shared/metrics.ts';

const COMPOSE_DIR = join(resolve(dirname(fileURLToPath(import.meta.url)), '../..'), 'compose');
const dashboard = JSON.parse(readFileSync(join(COMPOSE_DIR, 'grafana-dashboard-vigil.json'), 'utf8')) as {
  uid: string;
  panels: { title: string; targets: { expr: string }[] }[];
};
const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => ({ panel: p.title, expr: t.expr })));

/** Series names a histogram or counter exposes, back to the metric's registered name. */
const baseName = (series: string) => series.replace(/_(bucket|sum|count)$/, '');

test('every metric the dashboard queries is one the services register', async () => {
  const registered = new Set((await createMetrics().registry.getMetricsAsJSON()).map((m) => m.name));
  for (const { panel, expr } of exprs) {
    const names = expr.match(/\b(vigil|process|rabbitmq)_[a-z_]+\b/g) ?? [];
    assert.ok(names.length > 0, `${panel}: no metric in ${expr}`);
    // RabbitMQ's own series are checked in compose.test.ts, against the families Prometheus scrapes.
    for (const n of names.filter((n) => !n.startsWith('rabbitmq_'))) assert.ok(registered.has(baseName(n)), `${panel}: ${n} is not a registered metric`);
  }
});

test("the dashboard shows every one of the contract's metrics", () => {
  const used = new Set(exprs.flatMap(({ expr }) => (expr.match(/\bvigil_[a-z_]+\b/g) ?? []).map(baseName)));
  for (const m of ['vigil_messages_total', 'vigil_message_duration_seconds', 'vigil_in_flight', 'vigil_retries_total', 'vigil_dead_lettered_total', 'vigil_face_results_total']) {
    assert.ok(used.has(m), `${m} has no panel`);
  }
  // No label carries a person's identity, so no query can group by one.
  for (const { panel, expr } of exprs) assert.doesNotMatch(expr, /lan_?id/i, panel);
});

test('Grafana is provisioned with the dashboard from the compose folder', () => {
  const compose = parseDocument(readFileSync(join(COMPOSE_DIR, 'docker-compose.yml'), 'utf8')).toJS() as { services: Record<string, { volumes?: string[] }> };
  const provider = parseDocument(readFileSync(join(COMPOSE_DIR, 'grafana-dashboards.yml'), 'utf8')).toJS() as { providers: { options: { path: string } }[] };
  const mounts = compose.services.grafana?.volumes ?? [];
  const dashboardDir = provider.providers[0]!.options.path;
  assert.ok(mounts.includes('./grafana-dashboards.yml:/etc/grafana/provisioning/dashboards/vigil.yml:ro'));
  assert.ok(mounts.some((m) => m.startsWith('./grafana-dashboard-vigil.json:') && m.split(':')[1]!.startsWith(`${dashboardDir}/`)), 'the dashboard file is mounted where the provider looks');
  assert.equal(dashboard.uid, 'vigil-overview');
});
