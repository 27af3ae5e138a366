/**
 * Templates on Eta (https://eta.js.org), set up once for Vigil: the notifier's mails now,
 * the console's pages later. A template reads its data as `it` (`<%= it.name %>`), with
 * plain JS for the rest (`<% if (present(it.streak)) { %>…<% } %>`).
 *
 * - `html` escapes every `<%= %>` value; a value written as a link's target must be an
 *   http(s) or mailto URL (link-rule.ts); raw output `<%~ %>` is refused, except to include
 *   another template of the same engine (`<%~ include('@name', it) %>`, already escaped).
 * - `text` substitutes values as they are: text mail is not HTML.
 * - Values: missing or null are empty, objects and arrays their JSON, the rest `String(v)`.
 * - Each template is compiled once, by `define`, to a function kept under `@<name>` for
 *   includes. The engine is Eta's core build: it has no file access, so a template can only
 *   include what its owner defined (no path, no folder outside the templates').
 * - Data is only ever substituted, never parsed as a template.
 */
import { Eta } from 'eta/core';
import { PermanentError, VigilError, errorMessage } from '../errors.ts';
import { checkLink, endsInLinkAttribute } from './link-rule.ts';

export type TemplateMode = 'html' | 'text';
export type RenderFunction = (data: Readonly<Record<string, unknown>>) => string;

export interface TemplateEngine {
  readonly mode: TemplateMode;
  /** The Eta instance the templates are compiled by, for `@fastify/view` (the console): it renders the functions `define` returns. */
  readonly eta: Eta;
  /** Compiles `source` once. @throws TemplateSyntaxError */
  define(name: string, source: string): RenderFunction;
}

/** A template that does not compile: a bug in the template, found when it is loaded. */
export class TemplateSyntaxError extends Error {}

/** What a template may call besides `it`. */
export const TEMPLATE_HELPERS = {
  /** Worth showing: not missing, null, '', false, [] or {} (0 is shown). */
  present(v: unknown): boolean {
    if (v === undefined || v === null || v === '' || v === false) return false;
    if (Array.isArray(v)) return v.length > 0;
    if (typeof v === 'object') return Object.keys(v).length > 0;
    return true;
  },
  /** An array's items; anything else (data is not ours) none. */
  items(v: unknown): readonly unknown[] {
    return Array.isArray(v) ? v : [];
  },
  /** An object's own `[key, value]` pairs in order; anything else none. */
  entries(v: unknown): [string, unknown][] {
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.entries(v) : [];
  },
  link: checkLink,
};

function formatValue(v: unknown): string {
  return v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
}

type AstObject = string | { t: string; val: string };

/** The HTML rules, applied to each template's parsed form before it becomes a function. */
function htmlRules(ast: AstObject[]): AstObject[] {
  return ast.map((node, i) => {
    if (typeof node === 'string') return node;
    if (node.t === 'r' && !/^\s*include\(/.test(node.val)) {
      throw new TemplateSyntaxError(`raw output <%~ ${node.val.trim()} %> in an HTML template: only include() may be unescaped`);
    }
    const before = ast[i - 1];
    if (node.t === 'i' && typeof before === 'string' && endsInLinkAttribute(before)) {
      return { ...node, val: `link(${node.val}, ${JSON.stringify(node.val)})` };
    }
    return node;
  });
}

class VigilEta extends Eta {
  readonly helpers = TEMPLATE_HELPERS;
}

export function createTemplateEngine(mode: TemplateMode): TemplateEngine {
  const eta = new VigilEta({
    autoEscape: mode === 'html',
    autoFilter: true,
    filterFunction: formatValue,
    // Whitespace is the template's own, as written: a text mail's lines are its layout.
    autoTrim: false,
    useWith: false,
    cache: true,
    functionHeader: `const { ${Object.keys(TEMPLATE_HELPERS).join(', ')} } = this.helpers;`,
    plugins: mode === 'html' ? [{ processAST: htmlRules }] : [],
  });
  return {
    mode,
    eta,
    define(name, source) {
      let fn;
      try {
        fn = eta.compile(source);
      } catch (err) {
        throw new TemplateSyntaxError(`template ${name}: ${errorMessage(err)}`, { cause: err });
      }
      eta.loadTemplate(`@${name}`, fn);
      return (data) => {
        try {
          return eta.render(fn, data);
        } catch (err) {
          if (err instanceof VigilError) throw err;
          // The same data through the same template fails the same way: retrying cannot help.
          throw new PermanentError('TEMPLATE_DATA_INVALID', `template ${name} cannot render its data: ${errorMessage(err)}`, err);
        }
      };
    },
  };
}
