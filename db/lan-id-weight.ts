import { sql, type Kysely, type RawBuilder } from 'kysely';
import { PermanentError } from '../shared/errors.ts';

/**
 * The server's weight of a `lan_id` under the identity collation, as hex: equal for two
 * spellings exactly when the database holds them one identity. The employee lock key is
 * made from it (shared/employee-lock-key.ts), so the lock agrees with every query.
 */

/** The collations migration 20261207T0900-lan-id-identity gives the lan_id columns. */
const LAN_ID_COLLATIONS = ['utf8mb4_uca1400_nopad_as_ci', 'utf8mb4_0900_as_ci'] as const;
export type LanIdCollation = (typeof LAN_ID_COLLATIONS)[number];

/** The weight of the row's `lan_id` column: the column carries the collation. An extra column of a query already run. */
export function lanIdColumnWeight(column = 'lan_id'): RawBuilder<string> {
  return sql<string>`HEX(WEIGHT_STRING(${sql.ref(column)}))`;
}

/** The weight of a name given as a parameter (an operator's argument), in the columns' collation. */
export function lanIdWeightOf(lanId: string, collation: LanIdCollation): RawBuilder<string> {
  // A collation cannot be a parameter: only one of the two known names is spliced in.
  return sql<string>`HEX(WEIGHT_STRING(CONVERT(${lanId} USING utf8mb4) COLLATE ${sql.raw(knownCollation(collation))}))`;
}

/** The lan_id columns' collation as this server names it (employee.lan_id stands for all: one migration set them). */
export async function lanIdCollation(db: Kysely<any>): Promise<LanIdCollation> {
  const r = await sql<{ c: string | null }>`
    SELECT COLLATION_NAME AS c FROM information_schema.COLUMNS
    WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'employee' AND COLUMN_NAME = 'lan_id'`.execute(db);
  return knownCollation(r.rows[0]?.c ?? '');
}

function knownCollation(c: string): LanIdCollation {
  if (!(LAN_ID_COLLATIONS as readonly string[]).includes(c)) {
    throw new PermanentError('LAN_ID_COLLATION', `employee.lan_id has the collation ${JSON.stringify(c)}, not the identity rule's (${LAN_ID_COLLATIONS.join(' or ')}): run vigil migrate`);
  }
  return c as LanIdCollation;
}
