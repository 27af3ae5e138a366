import { PermanentError } from '../errors.ts';

/** `console_user.name` is a varchar(64): characters, not bytes. */
export const MAX_ACCOUNT_NAME_LENGTH = 64;

// Controls and invisible format characters (bidi overrides, zero-width joiners) make two
// names look alike on a page or in the audit log, or reorder a line in a terminal.
const INVISIBLE = /[\p{Cc}\p{Cf}\u2028\u2029]/u;

/**
 * A console account's name (and an audit actor's): 1 to 64 characters, none of them a
 * control or invisible format character, no white space at either end. Refused with a code.
 */
export function checkAccountName(name: string): void {
  const length = [...name].length;
  if (length === 0 || length > MAX_ACCOUNT_NAME_LENGTH) {
    throw new PermanentError('ACCOUNT_NAME_INVALID', `refused: an account name has 1 to ${MAX_ACCOUNT_NAME_LENGTH} characters, this one ${length} (ACCOUNT_NAME_INVALID)`);
  }
  if (INVISIBLE.test(name)) {
    // Not echoed: the character is the problem, and would reach the terminal as it is.
    throw new PermanentError('ACCOUNT_NAME_INVALID', 'refused: the account name holds a control or invisible character (ACCOUNT_NAME_INVALID)');
  }
  if (name.trim() !== name) {
    throw new PermanentError('ACCOUNT_NAME_INVALID', `refused: the account name ${JSON.stringify(name)} begins or ends with white space (ACCOUNT_NAME_INVALID)`);
  }
}
