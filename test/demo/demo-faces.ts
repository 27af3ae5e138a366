import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { insertAndPublish } from '../../services/cli/commands/enroll-snapshot-action.ts';
import type { CliContext } from '../../services/cli/context.ts';
import type { StreamResult } from '../../shared/contract/result-codes.ts';
import { nonFaceImages } from '../helpers/face-images.ts';
import { waitFor } from '../helpers/runtime-harness.ts';

const FACES = join(dirname(fileURLToPath(import.meta.url)), '../fixtures/faces');

/** Who is who in test/fixtures/faces (its README): each employee enrols with one photo of theirs. */
export const EMPLOYEES = [
  { lanId: 'DEMO\\ada', person: 'person05', enrol: 'img16.jpg' },
  { lanId: 'DEMO\\bob', person: 'person10', enrol: 'img46.jpg' },
  { lanId: 'DEMO\\cyd', person: 'person01', enrol: 'img5.jpg' },
  { lanId: 'DEMO\\dee', person: 'person03', enrol: 'img51.jpg' },
] as const;

export interface SnapshotCase {
  lanId: string;
  story: string;
  /** Fixture photo names, or `gradient` for a picture without anybody in it. */
  images: string[];
  expected: StreamResult[];
  /** The alert the last snapshot must raise and the notifier mail to the supervisor. */
  alert?: 'impersonation' | 'absence';
}

/**
 * Impersonation is a replay: the employee's successful snapshots barely change
 * (FACE_IMPERSONATION_WINDOW, 3). Absence is a run of snapshots with nobody in them
 * (FACE_ABSENCE_STREAK, set to 3 for the demo). Someone else's face is UNKNOWN_PERSON.
 */
export const SNAPSHOTS: SnapshotCase[] = [
  { lanId: 'DEMO\\ada', story: 'her own other photo', images: ['img17.jpg'], expected: ['SUCCESS'] },
  { lanId: 'DEMO\\bob', story: 'his other photo, replayed 3 times', images: ['img44.jpg', 'img44.jpg', 'img44.jpg'], expected: ['SUCCESS', 'SUCCESS', 'IMPERSONATION_SUSPECTED'], alert: 'impersonation' },
  { lanId: 'DEMO\\cyd', story: "ada's photo at cyd's desk", images: ['img17.jpg'], expected: ['UNKNOWN_PERSON'] },
  { lanId: 'DEMO\\dee', story: 'an empty gradient, 3 times', images: ['gradient', 'gradient', 'gradient'], expected: ['NO_FACES_FOUND', 'NO_FACES_FOUND', 'NO_FACES_FOUND'], alert: 'absence' },
];

export const ABSENCE_STREAK = 3;

/** `vigil enroll` for each employee (the CLI's own code), then waits for facetraining's verdicts. */
export async function enrolEmployees(cli: CliContext, db: Kysely<Database>, timeoutMs: number): Promise<{ lanId: string; result: string | null }[]> {
  const ids = await Promise.all(EMPLOYEES.map(async (e) => (await insertAndPublish(cli, 'train_img', 'facetraining', e.lanId, join(FACES, e.enrol))).id));
  const rows = await settled(db, 'train_img', ids, timeoutMs);
  return rows.map((r) => ({ lanId: r.lan_id, result: r.result }));
}

export interface SnapshotOutcome {
  c: SnapshotCase;
  ids: number[];
  results: (string | null)[];
}

/** `vigil snapshot` for each case, one second apart in capture order, then waits for facestreaming's verdicts. */
export async function streamSnapshots(cli: CliContext, db: Kysely<Database>, tmp: string, timeoutMs: number): Promise<SnapshotOutcome[]> {
  const gradient = join(tmp, 'gradient.jpg');
  await writeFile(gradient, (await nonFaceImages()).gradient!);
  const t0 = Date.now() - 60_000;
  const published = await Promise.all(
    SNAPSHOTS.map(async (c) => {
      const ids: number[] = [];
      // One after another: each snapshot's row exists before the next is published.
      for (const [i, image] of c.images.entries()) {
        const path = image === 'gradient' ? gradient : join(FACES, image);
        ids.push((await insertAndPublish(cli, 'stream_img', 'facestreaming', c.lanId, path, new Date(t0 + i * 1000))).id);
      }
      return { c, ids };
    }),
  );
  const rows = await settled(db, 'stream_img', published.flatMap((p) => p.ids), timeoutMs);
  return published.map(({ c, ids }) => ({ c, ids, results: ids.map((id) => rows.find((r) => r.id === id)!.result) }));
}

async function settled(db: Kysely<Database>, table: 'train_img' | 'stream_img', ids: number[], timeoutMs: number) {
  await waitFor(`${ids.length} ${table} rows processed`, async () => {
    const rows = await db.selectFrom(table).select('status').where('id', 'in', ids).execute();
    return rows.length === ids.length && rows.every((r) => r.status === 'Y' || r.status === 'F');
  }, timeoutMs, 200);
  return db.selectFrom(table).select(['id', 'lan_id', 'result']).where('id', 'in', ids).execute();
}
