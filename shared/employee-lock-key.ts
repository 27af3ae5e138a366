import { createHash } from 'node:crypto';

/**
 * The identity rule for `lan_id` (issue 22): letter case does not matter (Windows domain
 * accounts: `NA\nvep5898` is `na\NVEP5898`); accents, marks and spaces, trailing ones
 * included, do (`josé` is not `jose`, `'jose '` is not `jose`). The database applies it
 * through the columns' collation (utf8mb4_uca1400_nopad_as_ci on MariaDB,
 * utf8mb4_0900_as_ci on MySQL 8; migration 20261207T0900-lan-id-identity).
 */

/**
 * The lock every writer of one employee's rows takes, and `vigil delete-user` with them,
 * from the server's own weight of the `lan_id` under the identity collation
 * (`HEX(WEIGHT_STRING(lan_id))`): two spellings the database holds equal have one weight,
 * so one lock, and different people have different ones. A fold of the name in JS could
 * only approximate the collation (it split a few hundred of its groups: `ƾ` is `ts` to the
 * server), and one person under two locks lets a writer and `delete-user` run at once.
 *
 * Hashed: a weight is several bytes per character, and the key shows up in lock errors,
 * where a person's identity has no place.
 */
export function employeeLockKey(lanIdWeightHex: string): string {
  if (!/^(?:[0-9a-f]{2})*$/i.test(lanIdWeightHex)) throw new Error(`employeeLockKey takes HEX(WEIGHT_STRING(lan_id)), not ${JSON.stringify(lanIdWeightHex.slice(0, 8))}…`);
  return `employee:${createHash('sha256').update(lanIdWeightHex.toUpperCase()).digest('hex')}`;
}

/** A `lan_id` given on a command line or in a message must not hide control characters. */
export function hasControlCharacters(lanId: string): boolean {
  return /\p{Cc}/u.test(lanId);
}
