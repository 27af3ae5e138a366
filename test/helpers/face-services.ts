import { loadConfig } from '../../services/config.ts';
import type { RunningApp } from '../../shared/app/run-services.ts';
import { service as facetraining } from '../../services/facetraining/main.ts';
import { service as facestreaming } from '../../services/facestreaming/main.ts';
import { captureLogger, startApp, waitFor } from './runtime-harness.ts';
import type { TestEnv } from './test-env.ts';

/** facetraining and facestreaming in this process on the test's database and queues, consuming. */
export async function startFaceServices(t: TestEnv): Promise<RunningApp> {
  const { logger } = captureLogger('warn');
  const running = await startApp(loadConfig(t.env), [facetraining, facestreaming], logger);
  await waitFor('the consumers', () => running.consumers.every((c) => c.attached), 60_000);
  return running;
}
