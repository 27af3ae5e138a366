import { PermanentError } from '../errors.ts';

/**
 * In HTML, a value written as a link's target (`href="<%= it.url %>"`, `src=…`) must be an
 * http(s) or mailto URL: escaping keeps data inside the attribute, not `javascript:` out of
 * a click. Which values are links is read from the template when it is compiled (the text
 * just before the value ends with such an attribute and its opening quote), so a template
 * cannot forget the check.
 */
const LINK_ATTRIBUTE = /\b(?:href|src|action|formaction|xlink:href)\s*=\s*["']?$/i;

/** Eta keeps template text as the inside of a JS string literal: `\\`, `\'` and `\n` escaped. */
function unescapeEtaText(s: string): string {
  return s.replace(/\\([\\'n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
}

export function endsInLinkAttribute(etaText: string): boolean {
  return LINK_ATTRIBUTE.test(unescapeEtaText(etaText));
}

/**
 * @returns `v`, when it is an absolute http(s) or mailto URL, as written (a browser strips the
 * spaces and tabs of ` java\tscript:`; this does not)
 * @throws PermanentError TEMPLATE_DATA_INVALID otherwise
 */
export function checkLink(v: unknown, expression: string): unknown {
  const s = typeof v === 'string' ? v : '';
  let scheme: string | undefined;
  try {
    scheme = new URL(s).protocol;
  } catch {
    scheme = undefined;
  }
  const ok = /^(?:https?:\/\/|mailto:)/i.test(s) && (scheme === 'http:' || scheme === 'https:' || scheme === 'mailto:');
  if (!ok) {
    const path = expression.trim().replace(/^it\./, '').replace(/\?\./g, '.');
    throw new PermanentError('TEMPLATE_DATA_INVALID', `data ${path} is a link: it must be an http(s) or mailto URL`);
  }
  return v;
}
