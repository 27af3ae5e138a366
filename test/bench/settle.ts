import { setTimeout as sleep } from 'node:timers/promises';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { publishRaw } from '../helpers/runtime-harness.ts';
import { cpuMeter, type CpuReading } from './process-cpu.ts';

/**
 * Publishes the ids at once on `queue` and waits until every one of those rows of `table`
 * is processed (`Y` or `F`): the rate from publish to the last, the rows' results, and the
 * CPU the host spent meanwhile (this process, the service under test, apart from the rest).
 */
export async function publishAndSettle(db: Kysely<Database>, table: 'train_img' | 'stream_img', queue: string, ids: number[]): Promise<{ rate: number; results: string[]; cpu: CpuReading }> {
  const meter = cpuMeter({}).start();
  const t0 = performance.now();
  await publishRaw(queue, ids.map(String));
  const settled = async () =>
    Number((await db.selectFrom(table).select(({ fn }) => fn.countAll<number>().as('n')).where('id', 'in', ids).where('status', 'in', ['Y', 'F']).executeTakeFirstOrThrow()).n);
  while ((await settled()) < ids.length) await sleep(100);
  const rate = ids.length / ((performance.now() - t0) / 1000);
  const cpu = meter.stop();
  const results = await db.selectFrom(table).select('result').where('id', 'in', ids).execute();
  return { rate, results: results.map((r) => String(r.result)), cpu };
}
