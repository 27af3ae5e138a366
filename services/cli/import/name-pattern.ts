import { RE2JS } from 're2js';
import { PermanentError } from '../../../shared/errors.ts';
import { BadObjectKeyError, checkObjectKey } from '../../../shared/contract/object-key.ts';

/**
 * `vigil import --regex`: how a camera video's path names its camera and time. Pure.
 *
 * The regex has the named groups `camera` and `epoch`, written JavaScript style
 * `(?<camera>…)` or Python style `(?P<camera>…)` (the seed's importer was Python). It must
 * match the whole string, tried against:
 * 1. the path relative to the import folder, `/`-separated (`site-a/cam1-1511893800.mp4`);
 * 2. then the absolute path of the folder's real path joined with it
 *    (`/data/in/site-a/cam1-1511893800.mp4`), which is what the seed's example assumes: it
 *    starts with `.*` and a slash, so it matches a file at the top of the folder this way.
 *
 * Matched by RE2 (re2js): time linear in the name's length whatever the pattern, so an
 * operator's `(a+)+` cannot stall an import on one long name. RE2 has no back-references
 * or lookaround; they are refused by name rather than with the engine's parse error.
 */

export class BadImportPatternError extends PermanentError {
  constructor(message: string, cause?: unknown) {
    super('BAD_IMPORT_REGEX', message, cause);
  }
}

/** A compiled `--regex`. */
export interface NamePattern {
  /** The groups of a whole-string match, or undefined. */
  match(s: string): { camera: string | null; epoch: string | null } | undefined;
}

/**
 * Syntax RE2 lacks, outside escapes and character classes: `(?=`, `(?!`, `(?<=`, `(?<!`,
 * `(?P=name)`, `\k<name>`, `\1`…`\9`.
 */
function unsupportedSyntax(source: string): string | undefined {
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') {
      const next = source[i + 1] ?? '';
      if (!inClass && /[1-9]/.test(next)) return `\\${next}`;
      if (!inClass && next === 'k') return source.slice(i, Math.min(i + 40, source.indexOf('>', i) + 1 || i + 2));
      i += 1;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') {
      inClass = true;
      // A `]` first in the class is a literal.
      if (source[i + 1] === ']') i += 1;
      else if (source[i + 1] === '^' && source[i + 2] === ']') i += 2;
      continue;
    }
    if (c !== '(' || source[i + 1] !== '?') continue;
    const rest = source.slice(i + 2);
    const look = /^(=|!|<=|<!)/.exec(rest);
    if (look) return `(?${look[1]}`;
    const backref = /^P=[^)]*\)/.exec(rest);
    if (backref) return `(?${backref[0]}`;
  }
  return undefined;
}

/** Compiles `--regex` to match whole strings. @throws BadImportPatternError */
export function compileNamePattern(source: string): NamePattern {
  const unsupported = unsupportedSyntax(source);
  if (unsupported !== undefined) {
    throw new BadImportPatternError(`--regex: back-references and lookaround are not supported (the match runs in linear time): found ${unsupported}`);
  }
  let re: RE2JS;
  try {
    re = RE2JS.compile(source);
  } catch (err) {
    throw new BadImportPatternError(`--regex is not a valid regular expression: ${(err as Error).message}`, err);
  }
  const groups = re.namedGroups();
  for (const name of ['camera', 'epoch']) {
    if (!Object.hasOwn(groups, name)) throw new BadImportPatternError(`--regex must have a named group "${name}": (?<${name}>…) or (?P<${name}>…)`);
  }
  return {
    match(s) {
      const m = re.matcher(s);
      return m.matches() ? { camera: m.group('camera'), epoch: m.group('epoch') } : undefined;
    },
  };
}

/** What a matched name gives: where it goes in the bucket. */
export interface NamedVideo {
  camera: string;
  /** Seconds since 1970, as the name gave it (decimal digits). */
  epoch: number;
  /** `<camera>/<epoch>.<ext>`, the extension in lower case. */
  key: string;
}

export type NameMatch = { ok: true; video: NamedVideo } | { ok: false; reason: string };

/** Camera names become the first key segment: letters, digits, `.`, `_`, `-`, at most 128. */
const CAMERA = /^[\p{L}\p{N}_][\p{L}\p{N}._-]{0,127}$/u;
/** Up to 9999-12-31 in seconds; milliseconds (13 digits) would be mistaken for a far future. */
const MAX_EPOCH = 253_402_300_799;

/**
 * Matches the relative path, then the absolute one (see the file comment). A match whose
 * camera or epoch cannot make a safe key is refused with the reason, never guessed at.
 */
export function matchVideoName(re: NamePattern, relPath: string, absPath: string, ext: string): NameMatch {
  const m = re.match(relPath) ?? re.match(absPath);
  if (!m) return { ok: false, reason: 'the name does not match --regex' };
  const { camera, epoch } = m;
  if (camera === null || camera === '') return { ok: false, reason: 'the regex matched without a camera' };
  if (epoch === null || epoch === '') return { ok: false, reason: 'the regex matched without an epoch' };
  if (!CAMERA.test(camera)) {
    return { ok: false, reason: 'the camera name must be 1-128 letters, digits, ".", "_" or "-", starting with a letter, digit or "_"' };
  }
  if (!/^\d{1,12}$/.test(epoch) || Number(epoch) > MAX_EPOCH) {
    return { ok: false, reason: `the epoch must be whole seconds since 1970, at most ${MAX_EPOCH} (9999-12-31T23:59:59Z)` };
  }
  const key = `${camera}/${Number(epoch)}.${ext.toLowerCase()}`;
  try {
    checkObjectKey(key);
  } catch (err) {
    if (err instanceof BadObjectKeyError) return { ok: false, reason: err.message };
    throw err;
  }
  return { ok: true, video: { camera, epoch: Number(epoch), key } };
}

/** `--ext avi,MP4,.mkv` → `['avi', 'mkv', 'mp4']`. @throws BadImportPatternError */
export function parseExtensions(list: string): string[] {
  const exts = [...new Set(list.split(',').map((e) => e.trim().replace(/^\./, '').toLowerCase()).filter((e) => e !== ''))].sort();
  if (exts.length === 0) throw new BadImportPatternError('--ext must name at least one extension, e.g. avi,mp4');
  for (const e of exts) if (!/^[a-z0-9]{1,10}$/.test(e)) throw new BadImportPatternError(`--ext: "${e.slice(0, 20)}" is not an extension (1-10 letters or digits)`);
  return exts;
}

/** The file's extension when it is one of `exts` (case-insensitive), else undefined. */
export function wantedExtension(name: string, exts: readonly string[]): string | undefined {
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return undefined;
  const ext = name.slice(dot + 1).toLowerCase();
  return exts.includes(ext) ? ext : undefined;
}
