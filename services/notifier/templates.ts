import { readdir, readFile } from 'node:fs/promises';
import { PermanentError } from '../../shared/errors.ts';
import { TEMPLATE_HELPERS, createTemplateEngine, type RenderFunction, type TemplateEngine } from '../../shared/templates/engine.ts';

/**
 * One template: `templates/<name>.txt` starts with a header (`subject:`, `requires:` the
 * data fields it cannot do without, `rate-limited: yes` for alerts), a `---` line, then
 * the text body; `templates/<name>.html` is the HTML body. All three are Eta templates
 * (shared/templates/engine.ts), compiled once when the catalog is loaded; a part several of
 * them share is `_<name>.txt` / `_<name>.html`, included by name.
 */
export interface Template {
  name: string;
  requires: string[];
  rateLimited: boolean;
  subject: RenderFunction;
  text: RenderFunction;
  html: RenderFunction;
}

export interface RenderedMessage {
  subject: string;
  text: string;
  html: string;
}

export type TemplateCatalog = ReadonlyMap<string, Template>;

export interface TemplateEngines {
  text: TemplateEngine;
  html: TemplateEngine;
}

export const TEMPLATES_DIR = new URL('./templates/', import.meta.url);

export function createEngines(): TemplateEngines {
  return { text: createTemplateEngine('text'), html: createTemplateEngine('html') };
}

/** Reads and compiles every template of `dir`, once, at start. @throws TemplateSyntaxError */
export async function loadTemplates(dir: URL = TEMPLATES_DIR): Promise<TemplateCatalog> {
  const files = await readdir(dir);
  const engines = createEngines();
  // `_<name>.txt` / `_<name>.html`: a part several templates include (`include('@_<name>', it)`),
  // defined before the templates that use it; no header, not a template of its own.
  for (const f of files.filter((f) => f.startsWith('_'))) {
    const m = /^(_[a-z0-9_]+)\.(txt|html)$/.exec(f);
    if (!m) throw new Error(`template part ${f}: expected _<name>.txt or _<name>.html`);
    engines[m[2] === 'txt' ? 'text' : 'html'].define(m[1]!, await readFile(new URL(f, dir), 'utf8'));
  }
  const names = files.filter((f) => f.endsWith('.txt') && !f.startsWith('_')).map((f) => f.slice(0, -4));
  const out = new Map<string, Template>();
  for (const name of names) {
    const [txt, html] = await Promise.all([readFile(new URL(`${name}.txt`, dir), 'utf8'), readFile(new URL(`${name}.html`, dir), 'utf8')]);
    out.set(name, parseTemplateFile(name, txt, html, engines));
  }
  return out;
}

export function parseTemplateFile(name: string, txt: string, html: string, engines: TemplateEngines = createEngines()): Template {
  const split = txt.indexOf('\n---\n');
  if (split < 0) throw new Error(`template ${name}.txt has no '---' line after its header`);
  const header = new Map<string, string>();
  for (const line of txt.slice(0, split).split('\n')) {
    const m = /^([a-z-]+):\s*(.*)$/.exec(line.trim());
    if (m) header.set(m[1]!, m[2]!);
  }
  const subject = header.get('subject');
  if (!subject) throw new Error(`template ${name}.txt has no subject`);
  return {
    name,
    requires: (header.get('requires') ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    rateLimited: header.get('rate-limited') === 'yes',
    subject: engines.text.define(`${name}.subject`, subject),
    text: engines.text.define(name, txt.slice(split + 5)),
    html: engines.html.define(name, html),
  };
}

/** The template by name, its required fields checked. @throws PermanentError TEMPLATE_UNKNOWN, TEMPLATE_DATA_MISSING */
export function templateFor(catalog: TemplateCatalog, name: string, data: Record<string, unknown>): Template {
  const t = catalog.get(name);
  if (!t) throw new PermanentError('TEMPLATE_UNKNOWN', `no template ${name}; known: ${[...catalog.keys()].sort().join(', ')}`);
  const missing = t.requires.filter((f) => !TEMPLATE_HELPERS.present(data[f]));
  if (missing.length > 0) throw new PermanentError('TEMPLATE_DATA_MISSING', `template ${name} needs data ${missing.join(', ')}`);
  return t;
}

/** @throws PermanentError TEMPLATE_DATA_INVALID (a link that is not http(s) or mailto, data a template cannot render) */
export function renderMessage(t: Template, data: Record<string, unknown>): RenderedMessage {
  return {
    // One line: a subject is a header.
    subject: t.subject(data).replace(/[\r\n]+/g, ' ').trim().slice(0, 250),
    text: t.text(data),
    html: t.html(data),
  };
}
