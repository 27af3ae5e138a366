import { readFileSync } from 'node:fs';

/** One variable that could not be read, in words an operator can act on. */
export interface ConfigProblem {
  variable: string;
  expected: string;
  /** The offending value; left out for secrets. */
  got?: string;
}

/** Thrown by `loadConfig`; `problems` has one entry per bad variable. */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  readonly problems: ConfigProblem[];

  constructor(problems: ConfigProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.problems = problems;
    this.name = 'ConfigError';
  }
}

export function formatProblem(p: ConfigProblem): string {
  return `invalid configuration: ${describeProblem(p)}`;
}

/** `X must be …`, with the offending value unless it is a secret. */
export function describeProblem(p: ConfigProblem): string {
  const got = p.got === undefined ? '' : ` (got ${JSON.stringify(p.got)})`;
  return `${p.variable} must be ${p.expected}${got}`;
}

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Reads variables from one environment snapshot and collects every problem instead of
 * stopping at the first, so an operator fixes a broken deployment in one round.
 *
 * Every variable `X` may come as `X_FILE` (Docker secrets): the file's content, without
 * its trailing newline, is the value.
 */
export class EnvReader {
  readonly problems: ConfigProblem[] = [];

  private readonly env: Env;

  constructor(env: Env) {
    this.env = env;
  }

  /** The raw value or undefined when unset or empty. */
  raw(name: string, secret = false): string | undefined {
    const direct = this.env[name];
    const file = this.env[`${name}_FILE`];
    if (direct !== undefined && direct !== '' && file !== undefined && file !== '') {
      this.problems.push({ variable: name, expected: `set either ${name} or ${name}_FILE, not both` });
      return undefined;
    }
    if (file !== undefined && file !== '') {
      try {
        return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
      } catch (err) {
        const reason = (err as NodeJS.ErrnoException).code ?? 'unreadable';
        this.problems.push({ variable: `${name}_FILE`, expected: `a readable file (${reason})`, got: file });
        return undefined;
      }
    }
    if (direct === undefined || direct === '') return undefined;
    return secret ? direct : direct.trim();
  }

  string(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  /** A string that `valid` accepts; otherwise the problem is noted (with the value) and `fallback` used. */
  matching(name: string, fallback: string, valid: (v: string) => boolean, expected: string): string {
    const v = this.string(name, fallback);
    if (valid(v)) return v;
    this.problems.push({ variable: name, expected, got: v });
    return fallback;
  }

  optionalString(name: string, opts: { secret?: boolean } = {}): string | undefined {
    return this.raw(name, opts.secret);
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    const n = /^-?\d+$/.test(v) ? Number(v) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      this.problems.push({ variable: name, expected: `an integer from ${min} to ${max}`, got: v });
      return fallback;
    }
    return n;
  }

  number(name: string, fallback: number, min: number, max: number): number {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    const n = /^-?(\d+\.?\d*|\.\d+)$/.test(v) ? Number(v) : Number.NaN;
    if (!Number.isFinite(n) || n < min || n > max) {
      this.problems.push({ variable: name, expected: `a number from ${min} to ${max}`, got: v });
      return fallback;
    }
    return n;
  }

  bool(name: string, fallback: boolean): boolean {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    const s = v.toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(s)) return true;
    if (['0', 'false', 'no', 'off'].includes(s)) return false;
    this.problems.push({ variable: name, expected: 'true or false', got: v });
    return fallback;
  }

  oneOf<T extends string>(name: string, fallback: T, allowed: readonly T[]): T {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    if ((allowed as readonly string[]).includes(v)) return v as T;
    this.problems.push({ variable: name, expected: `one of ${allowed.join(', ')}`, got: v });
    return fallback;
  }

  /** A URL whose scheme is one of `protocols`; the value is hidden in errors (it may hold a password). */
  url(name: string, fallback: string | undefined, protocols: readonly string[]): string | undefined {
    const v = this.raw(name, true);
    if (v === undefined) return fallback;
    let parsed: URL | undefined;
    try {
      parsed = new URL(v);
    } catch {
      parsed = undefined;
    }
    if (!parsed || !protocols.includes(parsed.protocol.replace(/:$/, ''))) {
      this.problems.push({ variable: name, expected: `a URL starting with ${protocols.map((p) => `${p}://`).join(' or ')}` });
      return fallback;
    }
    return v;
  }

  /** Durations such as `500ms`, `5s`, `2m`, `1h`, as milliseconds. */
  duration(name: string, fallbackMs: number, minMs = 0, maxMs = 7 * 24 * 3600_000): number {
    const v = this.raw(name);
    if (v === undefined) return fallbackMs;
    const ms = parseDuration(v);
    if (ms === undefined || ms < minMs || ms > maxMs) {
      this.problems.push({ variable: name, expected: `a duration like 500ms, 5s, 2m or 1h, from ${minMs} ms to ${maxMs} ms`, got: v });
      return fallbackMs;
    }
    return ms;
  }

  /** Sizes such as `2GiB` or `500MB`; a bare number is MiB. */
  byteSize(name: string, fallback: number): number {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    const bytes = parseByteSize(v);
    if (bytes === undefined) {
      this.problems.push({ variable: name, expected: 'a size like 2GiB, 500MB or 2048 (MiB); 0 disables', got: v });
      return fallback;
    }
    return bytes;
  }

  durationList(name: string, fallbackMs: number[], minMs: number, maxMs: number): number[] {
    const v = this.raw(name);
    if (v === undefined) return fallbackMs;
    const parts = v.split(',').map((s) => parseDuration(s.trim()));
    if (parts.length === 0 || parts.some((ms) => ms === undefined || ms < minMs || ms > maxMs)) {
      this.problems.push({ variable: name, expected: `a comma-separated list of durations like 5s,30s,2m, each from ${minMs} ms to ${maxMs} ms`, got: v });
      return fallbackMs;
    }
    return parts as number[];
  }
}

const SIZE_UNITS: Record<string, number> = {
  b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, tib: 1024 ** 4,
};

/** A size such as `2GiB`, `500MB` or `512KiB`; a bare number is MiB. */
export function parseByteSize(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]i?b|b)?$/i.exec(text.trim());
  if (!m) return undefined;
  const bytes = Number(m[1]) * (m[2] ? SIZE_UNITS[m[2].toLowerCase()]! : 1024 ** 2);
  return Number.isSafeInteger(Math.round(bytes)) ? Math.round(bytes) : undefined;
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `5s` → 5000; a bare number is seconds. Undefined when not a duration. */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text);
  if (!m) return undefined;
  const value = Number(m[1]) * UNIT_MS[m[2] ?? 's']!;
  return Number.isFinite(value) ? Math.round(value) : undefined;
}
