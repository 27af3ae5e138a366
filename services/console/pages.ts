import { readFileSync } from 'node:fs';
import { createTemplateEngine, type RenderFunction } from '../../shared/templates/engine.ts';

/** The console's pages, compiled once with the house's HTML engine (every value escaped). */
export interface ConsolePages {
  login(data: { formToken: string; next: string; message?: string }): string;
  home(data: { name: string; role: string; csrfToken: string }): string;
  /** The review queue (review.ts). */
  reviewQueue(data: Readonly<Record<string, unknown>>): string;
  /** One snapshot under review, with its decisions (review.ts). */
  reviewItem(data: Readonly<Record<string, unknown>>): string;
}

const view = (name: string): string => readFileSync(new URL(`./views/${name}.eta`, import.meta.url), 'utf8');

export function consolePages(): ConsolePages {
  const engine = createTemplateEngine('html');
  const login: RenderFunction = engine.define('login', view('login'));
  const home: RenderFunction = engine.define('home', view('home'));
  const reviewQueue: RenderFunction = engine.define('review-queue', view('review-queue'));
  const reviewItem: RenderFunction = engine.define('review-item', view('review-item'));
  return { login: (d) => login(d), home: (d) => home(d), reviewQueue, reviewItem };
}

/** The console's stylesheet, served at /assets/console.css (no inline style anywhere). */
export const CONSOLE_CSS = readFileSync(new URL('./assets/console.css', import.meta.url));
