/**
 * The one email address rule of Vigil: the upload job's speaker addresses, the notifier's
 * recipients and `NOTIFIER_SUPERVISORS` are checked by it, so an address one part accepts
 * is never refused by the next.
 *
 * A plain addr-spec: dot-atom local part, a domain of at least two DNS labels (none
 * starting or ending with `-`), a top-level label with a letter. No display names,
 * comments, quoted local parts or address literals: anything fancier is where header
 * injection and relay confusion live.
 */
const LOCAL = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;

/** RFC 5321's limit on a forward path. */
export const MAX_EMAIL_LENGTH = 254;

export function isEmailAddress(s: string): boolean {
  if (s.length > MAX_EMAIL_LENGTH) return false;
  const at = s.lastIndexOf('@');
  if (at < 1) return false;
  const local = s.slice(0, at);
  const labels = s.slice(at + 1).split('.');
  return local.length <= 64 && LOCAL.test(local) && labels.length >= 2 && labels.every((l) => LABEL.test(l)) && /[A-Za-z]/.test(labels.at(-1)!);
}
