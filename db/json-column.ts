/**
 * A JSON column's text read leniently: rows written by older code, or by hand, must not
 * fail a page or an export. Unparsable text reads as null.
 */
export function parseJsonColumn(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** The same, kept only when it is a JSON object (an attempt's detail, a notification). */
export function parseJsonObject(text: string | null): Record<string, unknown> | null {
  const v = parseJsonColumn(text);
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}
