/**
 * The identity rule for `lan_id` (issue 22): letter case does not matter (Windows domain
 * accounts: `NA\nvep5898` is `na\NVEP5898`); accents, marks and spaces, trailing ones
 * included, do (`josé` is not `jose`, `'jose '` is not `jose`). The database applies it
 * through the columns' collation (utf8mb4_uca1400_nopad_as_ci on MariaDB,
 * utf8mb4_0900_as_ci on MySQL 8; migration 20261207T0900-lan-id-identity).
 */

/**
 * A fold of a `lan_id` that is never finer than the collation: two names the database
 * holds equal fold alike. It is coarser on purpose (accents, marks and trailing spaces are
 * dropped, `ß` becomes `ss`), because it only names locks: two different people sharing a
 * lock wait for each other, which is safe, while one person under two locks would let two
 * writers (or a writer and `delete-user`) run at once.
 *
 * Why each step: the collation equates compatibility variants (full-width, ligatures,
 * circled, superscript: NFKD), ignores default-ignorable code points, controls and format
 * characters (soft hyphen, zero-width space) and a few more (tatweel), weighs katakana like hiragana and small kana
 * like full-size ones, any script's digits like ASCII ones and any space like U+0020, and
 * compares case-insensitively (lower, upper, lower: `ẞ`, `ß`, `SS` and `ss` agree). Case
 * mapping can yield combining marks (`İ` → `i̇`), hence NFKD after it too. A few letters
 * that Unicode writes as combining marks but the collation weighs as letters are spelled
 * out first. test/integration/lan-id-fold.test.ts holds this against the server's collation.
 */
export function lanIdFold(lanId: string): string {
  return lanId
    .replace(/[\u0363-\u036f\ua79a-\ua79f]/g, (c) => LETTER_LIKE[c] ?? c)
    .normalize('NFKD')
    .toLowerCase()
    .toUpperCase()
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[\p{M}\p{Default_Ignorable_Code_Point}\p{Cc}\p{Cf}\u0640\u07fa\u180a\u1cd3\ufe73]/gu, '')
    .replace(/[\u30a1-\u30f6\u30fd\u30fe]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0x60))
    .replace(/[\u3041\u3043\u3045\u3047\u3049\u3063\u3083\u3085\u3087\u308e\u3095\u3096]/g, (c) => SMALL_KANA[c] ?? c)
    .replace(/\p{Nd}/gu, digitValue)
    .replace(/\p{Zs}/gu, ' ')
    .trimEnd();
}

/** The lock every writer of one employee's rows takes, and `vigil delete-user` with them. */
export function employeeLockKey(lanId: string): string {
  return `employee:${lanIdFold(lanId)}`;
}

/** A `lan_id` given on a command line or in a message must not hide control characters. */
export function hasControlCharacters(lanId: string): boolean {
  return /\p{Cc}/u.test(lanId);
}

/** Combining Latin small letters (U+0363–U+036F) and Volapük's letters, as the collation weighs them. */
const LETTER_LIKE: Record<string, string> = {
  '\u0363': 'a', '\u0364': 'e', '\u0365': 'i', '\u0366': 'o', '\u0367': 'u', '\u0368': 'c', '\u0369': 'd',
  '\u036a': 'h', '\u036b': 'm', '\u036c': 'r', '\u036d': 't', '\u036e': 'v', '\u036f': 'x',
  '\ua79a': 'a', '\ua79b': 'a', '\ua79c': 'o', '\ua79d': 'o', '\ua79e': 'u', '\ua79f': 'u',
};

const SMALL_KANA: Record<string, string> = {
  'ぁ': 'あ', 'ぃ': 'い', 'ぅ': 'う', 'ぇ': 'え', 'ぉ': 'お', 'っ': 'つ', 'ゃ': 'や', 'ゅ': 'ゆ', 'ょ': 'よ', 'ゎ': 'わ', 'ゕ': 'か', 'ゖ': 'け',
};

/** Decimal digits come in runs of ten, 0 to 9 (a Unicode stability guarantee): a digit's value is its place in its run. */
function digitValue(d: string): string {
  let cp = d.codePointAt(0)!;
  let n = 0;
  while (/\p{Nd}/u.test(String.fromCodePoint(cp - 1))) {
    cp--;
    n++;
  }
  return String(n % 10);
}
