import { readdir, readFile } from 'node:fs/promises';
import { PermanentError } from '../../shared/errors.ts';
import { parseTemplate, present, render } from './template-render.ts';

/**
 * One template: `templates/<name>.txt` starts with a header (`subject:`, `requires:` the
 * data fields it cannot do without, `rate-limited: yes` for alerts), a `---` line, then
 * the text body; `templates/<name>.html` is the HTML body.
 */
export interface Template {
  name: string;
  requires: string[];
  rateLimited: boolean;
  subject: ReturnType<typeof parseTemplate>;
  text: ReturnType<typeof parseTemplate>;
  html: ReturnType<typeof parseTemplate>;
}

export interface RenderedMessage {
  subject: string;
  text: string;
  html: string;
}

export type TemplateCatalog = ReadonlyMap<string, Template>;

export const TEMPLATES_DIR = new URL('./templates/', import.meta.url);

export async function loadTemplates(dir: URL = TEMPLATES_DIR): Promise<TemplateCatalog> {
  const names = (await readdir(dir)).filter((f) => f.endsWith('.txt')).map((f) => f.slice(0, -4));
  const out = new Map<string, Template>();
  for (const name of names) {
    const [txt, html] = await Promise.all([readFile(new URL(`${name}.txt`, dir), 'utf8'), readFile(new URL(`${name}.html`, dir), 'utf8')]);
    out.set(name, parseTemplateFile(name, txt, html));
  }
  return out;
}

export function parseTemplateFile(name: string, txt: string, html: string): Template {
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
    subject: parseTemplate(subject),
    text: parseTemplate(txt.slice(split + 5)),
    html: parseTemplate(html),
  };
}

/** The template by name, its required fields checked. @throws PermanentError TEMPLATE_UNKNOWN, TEMPLATE_DATA_MISSING */
export function templateFor(catalog: TemplateCatalog, name: string, data: Record<string, unknown>): Template {
  const t = catalog.get(name);
  if (!t) throw new PermanentError('TEMPLATE_UNKNOWN', `no template ${name}; known: ${[...catalog.keys()].sort().join(', ')}`);
  const missing = t.requires.filter((f) => !present(data[f]));
  if (missing.length > 0) throw new PermanentError('TEMPLATE_DATA_MISSING', `template ${name} needs data ${missing.join(', ')}`);
  return t;
}

export function renderMessage(t: Template, data: Record<string, unknown>): RenderedMessage {
  return {
    // One line: a subject is a header.
    subject: render(t.subject, data, 'text').replace(/[\r\n]+/g, ' ').trim().slice(0, 250),
    text: render(t.text, data, 'text'),
    html: render(t.html, data, 'html'),
  };
}
