/**
 * A tiny `{{field}}` renderer, enough for the notifier's own templates:
 * - `{{a.b}}` a value (objects and arrays as JSON), HTML-escaped in `html` mode;
 * - `{{#if a.b}}…{{else}}…{{/if}}` when the value is present and not empty;
 * - `{{#each list}}…{{/each}}` over an array (`{{.}}` or the item's fields) or an object
 *   (`{{@key}}`, `{{@value}}`); names not found on the item are looked up outside it.
 * Templates are ours, data is not: data is only ever substituted, never parsed as a template.
 * A value that is a link's target in HTML (`href="{{url}}"`, `src=…`) must be an http(s) or
 * mailto URL: escaping keeps data inside the attribute, not `javascript:` out of a click.
 */
import { PermanentError } from '../../shared/errors.ts';

export type RenderMode = 'text' | 'html';

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'value'; path: string; link?: boolean }
  | { kind: 'if'; path: string; then: Node[]; else: Node[] }
  | { kind: 'each'; path: string; body: Node[] };

export class TemplateSyntaxError extends Error {}

/** The text before a value that is an attribute holding a URL. */
const LINK_ATTRIBUTE = /\b(?:href|src|action|formaction|xlink:href)\s*=\s*["']?$/i;

const TAG = /\{\{\s*([#/]?)([.@\w][\w.@]*)?\s*([\w.@]*)\s*\}\}/g;

export function parseTemplate(source: string): Node[] {
  const root: Node[] = [];
  const stack: { nodes: Node[]; node?: Node & { kind: 'if' | 'each' }; inElse?: boolean }[] = [{ nodes: root }];
  let last = 0;
  for (const m of source.matchAll(TAG)) {
    const top = stack.at(-1)!;
    if (m.index > last) top.nodes.push({ kind: 'text', text: source.slice(last, m.index) });
    last = m.index + m[0].length;
    const [, sigil, word = '', arg] = m;
    if (sigil === '#') {
      if ((word !== 'if' && word !== 'each') || !arg) throw new TemplateSyntaxError(`bad block ${m[0]}`);
      const node = word === 'if' ? { kind: 'if' as const, path: arg, then: [], else: [] } : { kind: 'each' as const, path: arg, body: [] };
      top.nodes.push(node);
      stack.push({ nodes: node.kind === 'if' ? node.then : node.body, node });
    } else if (sigil === '/') {
      if (stack.length === 1 || top.node!.kind !== word) throw new TemplateSyntaxError(`unexpected ${m[0]}`);
      stack.pop();
    } else if (word === 'else' && !arg) {
      if (top.node?.kind !== 'if' || top.inElse) throw new TemplateSyntaxError('{{else}} outside {{#if}}');
      top.nodes = top.node.else;
      top.inElse = true;
    } else {
      if (!word || arg) throw new TemplateSyntaxError(`bad tag ${m[0]}`);
      const before = top.nodes.at(-1);
      top.nodes.push({ kind: 'value', path: word, link: before?.kind === 'text' && LINK_ATTRIBUTE.test(before.text) });
    }
  }
  if (stack.length > 1) throw new TemplateSyntaxError(`unclosed {{#${stack.at(-1)!.node!.kind}}}`);
  if (last < source.length) root.push({ kind: 'text', text: source.slice(last) });
  return root;
}

export function render(nodes: readonly Node[], data: Record<string, unknown>, mode: RenderMode): string {
  return renderIn(nodes, [data], mode);
}

function renderIn(nodes: readonly Node[], scopes: unknown[], mode: RenderMode): string {
  let out = '';
  for (const n of nodes) {
    if (n.kind === 'text') out += n.text;
    else if (n.kind === 'value') {
      const v = lookup(scopes, n.path);
      if (n.link && mode === 'html') checkLink(n.path, v);
      out += format(v, mode);
    }
    else if (n.kind === 'if') out += renderIn(present(lookup(scopes, n.path)) ? n.then : n.else, scopes, mode);
    else {
      const v = lookup(scopes, n.path);
      const items: unknown[] = Array.isArray(v)
        ? v
        : v !== null && typeof v === 'object'
          ? Object.entries(v).map(([k, val]) => ({ '@key': k, '@value': val }))
          : [];
      for (const item of items) out += renderIn(n.body, [...scopes, item], mode);
    }
  }
  return out;
}

function lookup(scopes: readonly unknown[], path: string): unknown {
  if (path === '.') return scopes.at(-1);
  const parts = path.split('.');
  for (let i = scopes.length - 1; i >= 0; i--) {
    const scope = scopes[i];
    if (scope === null || typeof scope !== 'object' || !Object.hasOwn(scope, parts[0]!)) continue;
    let v: unknown = scope;
    for (const p of parts) v = v !== null && typeof v === 'object' && Object.hasOwn(v, p) ? (v as Record<string, unknown>)[p] : undefined;
    return v;
  }
  return undefined;
}

/**
 * @throws PermanentError TEMPLATE_DATA_INVALID unless `v` is an absolute http(s) or mailto
 * URL, as written (a browser strips the spaces and tabs of ` java\tscript:`; this does not)
 */
function checkLink(path: string, v: unknown): void {
  const s = typeof v === 'string' ? v : '';
  let scheme: string | undefined;
  try {
    scheme = new URL(s).protocol;
  } catch {
    scheme = undefined;
  }
  const ok = /^(?:https?:\/\/|mailto:)/i.test(s) && (scheme === 'http:' || scheme === 'https:' || scheme === 'mailto:');
  if (!ok) throw new PermanentError('TEMPLATE_DATA_INVALID', `data ${path} is a link: it must be an http(s) or mailto URL`);
}

export function present(v: unknown): boolean {
  if (v === undefined || v === null || v === '' || v === false) return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

function format(v: unknown, mode: RenderMode): string {
  const s = v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  return mode === 'html' ? escapeHtml(s) : s;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
