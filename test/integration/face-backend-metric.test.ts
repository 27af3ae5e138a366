// The face backend in use is visible as a metric label, the same one the log line and
// `vigil doctor` name, so a dashboard can tell a host that fell back to wasm or cpu.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createAppContext } from '../../shared/app/app-context.ts';
import { faceAnalyzerFor } from '../../shared/app/face-analyzer-for.ts';
import { loadConfig } from '../../services/config.ts';
import { FACE_BACKENDS } from '../../shared/face/engine.ts';
import { captureLogger, metricValue } from '../helpers/runtime-harness.ts';
import { AMQP_URL, MYSQL_SERVER } from '../helpers/test-env.ts';

test('vigil_face_backend_info is 1 for the backend the engine loaded, and only for it', async () => {
  const config = loadConfig({ DATABASE_URL: `${MYSQL_SERVER}/vigil_unused`, AMQP_URL, FACE_WORKERS: '1', METRICS_PORT: '0' });
  const { logger, lines } = captureLogger();
  const app = createAppContext(config, logger);
  try {
    const analyzer = await faceAnalyzerFor(app);
    const backend = analyzer.info.backend;
    assert.equal(await metricValue(app.metrics, 'vigil_face_backend_info', { backend }), 1);
    for (const other of FACE_BACKENDS.filter((b) => b !== backend && b !== 'auto')) {
      assert.equal(await metricValue(app.metrics, 'vigil_face_backend_info', { backend: other }), 0, other);
    }
    // The metric and the log line agree.
    assert.ok(lines.some((l) => l.msg === 'face engine ready' && l.backend === backend));
    const series = (await app.metrics.registry.getSingleMetric('vigil_face_backend_info')!.get()).values;
    assert.deepEqual(series.map((v) => Object.keys(v.labels)), [['backend']], 'one series, no other label');
  } finally {
    await app.runClosers();
    await app.closeDatabases();
  }
});
