import type { ColumnType } from 'kysely';

/** A creation time the database fills in (`DEFAULT CURRENT_TIMESTAMP`): optional on insert, never updated. */
export type CreatedAt = ColumnType<Date, Date | undefined, never>;
