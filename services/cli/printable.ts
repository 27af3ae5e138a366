/**
 * Text from outside (file names, paths) made safe for an operator's terminal: C0 and C1
 * controls, DEL, line and paragraph separators and the bidi overrides and isolates are
 * written as JSON-style escapes (`\n`, `\u001b`, `\u202e`), so a name cannot retitle the
 * window, clear the screen, split a line or read backwards. Everything else is unchanged.
 * For human output only: `--json` documents are JSON already.
 */
const UNSAFE = /[\p{Cc}\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu;
const SHORT: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f' };

export function printable(text: string): string {
  return text.replace(UNSAFE, (c) => SHORT[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
