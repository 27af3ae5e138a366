import { hasControlCharacters } from '../employee-lock-key.ts';
import { PermanentError } from '../errors.ts';
import type { FaceExportOptions } from './face-export.ts';

/** How far back an export looks, given in days (the console's form, the CLI's `--since 10d`). */
export const EXPORT_DAY_MS = 24 * 3_600_000;

/**
 * The face export's options as the command line and the console both ask for them: the
 * snapshots captured in the `backMs` before `now`, all or only the refused, of every
 * employee or one. Apart from face-export.ts, so the CLI's argument parsing loads no image code.
 * @throws PermanentError LAN_ID_INVALID for an empty lan_id or one with control characters
 */
export function faceExportOptions(p: { backMs: number; refused: boolean; lanId?: string }, now: Date = new Date()): FaceExportOptions {
  if (p.lanId !== undefined && (p.lanId === '' || hasControlCharacters(p.lanId))) {
    throw new PermanentError('LAN_ID_INVALID', 'refused: the lan_id is empty or holds control characters (LAN_ID_INVALID)');
  }
  return { since: new Date(now.getTime() - p.backMs), refused: p.refused, lanId: p.lanId };
}
