// What the console bench adds to a scale fill (scale-fill.ts: employees, snapshots and their
// attempts): what a site's console pages read beside the snapshots. The faces and alerts of
// the snapshots the review queue shows, the decisions of a month in audit_log, a few
// pending proposals, and real JPEGs on the newest flagged snapshots (retention has removed
// the older ones' bytes, as on a site). INSERT … SELECT again, so it takes seconds.
import { sql, type Kysely } from 'kysely';
import { REVIEW_RESULTS } from '../../db/repositories/review.repository.ts';
import type { Database } from '../../db/schema.ts';
import { EMPLOYEES, START } from './scale-fill.ts';

const REVIEWED = sql.join(REVIEW_RESULTS.map((r) => sql.lit(r)));

/**
 * One `stream_face` per flagged snapshot (two for UNKNOWN_MULTIPLE_FACES), the
 * verdict's detail on their attempts (the item page shows the threshold), and a
 * face_alert for every IMPERSONATION_SUSPECTED and every fourth UNKNOWN_PERSON. Other
 * snapshots get none: the console reads faces only of the snapshots it shows.
 */
export async function fillReviewEvidence(db: Kysely<Database>): Promise<void> {
  // Landmarks and descriptor are as long as the engine's (68 pairs and 128 float32).
  await sql`INSERT INTO stream_face (stream_img_id, face_index, lan_id, box, score, landmarks, quality, model, descriptor)
    SELECT s.id, f.seq, s.lan_id,
           CONCAT('{"x":', 120 + f.seq * 220, ',"y":', 90 + s.id % 40, ',"width":', 140 + s.id % 30, ',"height":', 170 + s.id % 30, '}'),
           0.9 + (s.id % 9) / 100, REPEAT(X'42', 544),
           CONCAT('{"sizePx":', 140 + s.id % 30, ',"score":0.93,"brightness":0.52,"sharpness":0.41,"pose":{"yaw":4.2,"pitch":-2.1,"roll":1.3}}'),
           '@vladmandic/face-api@1.7.15/faceRecognitionNet/chip150', REPEAT(X'3d', 512)
    FROM stream_img s JOIN seq_0_to_1 f ON f.seq = 0 OR s.result = 'UNKNOWN_MULTIPLE_FACES'
    WHERE s.result IN (${REVIEWED})
    ORDER BY s.id, f.seq`.execute(db);
  await sql`UPDATE process_status SET detail = CONCAT('{"threshold":0.6,"bestFace":0,"faces":1,"distances":[0.', 61 + image_id % 30, ']}')
    WHERE image_type = 'stream' AND result IN (${REVIEWED})`.execute(db);
  await sql`INSERT INTO face_alert (lan_id, stream_img_id, kind, state, notification, created_at, published_at)
    SELECT lan_id, id, CASE result WHEN 'IMPERSONATION_SUSPECTED' THEN 'impersonation' ELSE 'unknown_person' END, 'published',
           CONCAT('{"lanId":"', REPLACE(lan_id, '\\\\', '\\\\\\\\'), '","snapshotId":', id, ',"result":"', result, '"}'),
           processed_time, processed_time + INTERVAL 1 SECOND
    FROM stream_img
    WHERE result = 'IMPERSONATION_SUSPECTED' OR (result = 'UNKNOWN_PERSON' AND id % 4 = 0)
    ORDER BY id`.execute(db);
}

/** A month of the console's and the gallery's audit rows (`rows`, one every 25 s from START), spread over 20 supervisors. */
export async function fillAudit(db: Kysely<Database>, rows = 100_000): Promise<void> {
  await sql`INSERT INTO audit_log (at, actor, action, lan_id, subject, before_state, after_state)
    SELECT TIMESTAMP(${START}) + INTERVAL seq * 25 SECOND, CONCAT('supervisor', seq % 20),
           ELT(1 + seq % 5, 'console.signin', 'gallery.propose', 'gallery.not-this', 'gallery.approve', 'gallery.reject'),
           IF(seq % 5 = 0, NULL, CONCAT('NA\\\\e', seq % ${sql.raw(String(EMPLOYEES))} + 1)),
           IF(seq % 5 = 0, NULL, CONCAT('stream_img:', seq * 10)),
           IF(seq % 5 IN (3, 4), '{"status":"pending"}', NULL),
           ELT(1 + seq % 5, '{"role":"supervisor"}', '{"status":"pending","faceIndex":0}', '{"faceIndex":0}', '{"status":"approved"}', '{"status":"rejected","reason":"not the employee"}')
    FROM seq_1_to_${sql.raw(String(rows))}`.execute(db);
}

/** The `count` newest flagged snapshots, newest first: the ones that still have their image on a site. */
export async function newestFlagged(db: Kysely<Database>, count: number): Promise<number[]> {
  const rows = await db.selectFrom('stream_img').select('id').where('result', 'in', [...REVIEW_RESULTS])
    .orderBy('capture_time', 'desc').orderBy('id', 'desc').limit(count).execute();
  return rows.map((r) => Number(r.id));
}

/** Stores `photos` (cycled) as the images of the snapshots `ids`, in that order. */
export async function storeImages(db: Kysely<Database>, ids: number[], photos: Buffer[]): Promise<void> {
  for (const [i, id] of ids.entries()) {
    await db.updateTable('stream_img').set({ image: photos[i % photos.length]! }).where('id', '=', id).execute();
  }
}

/** `count` pending proposals: face 0 of the newest UNKNOWN_PERSON snapshots that have their image. */
export async function fillProposals(db: Kysely<Database>, count: number): Promise<void> {
  await sql`INSERT INTO gallery_proposal (lan_id, stream_img_id, face_index, proposed_by, proposed_at, status)
    SELECT lan_id, id, 0, 'supervisor1', processed_time + INTERVAL 5 MINUTE, 'pending'
    FROM stream_img WHERE result = 'UNKNOWN_PERSON' AND image IS NOT NULL
    ORDER BY id DESC LIMIT ${sql.raw(String(count))}`.execute(db);
}

/** The span of the filled snapshots, for date filters inside it: the day `n` days after the first. */
export function fillDay(n: number): string {
  return new Date(Date.parse(`${START.replace(' ', 'T')}Z`) + n * 86_400_000).toISOString().slice(0, 10);
}
