import { PermanentError } from '../errors.ts';
import { BadObjectKeyError, checkObjectKey } from '../storage/object-key.ts';

/**
 * `vigil import --regex`: how a camera video's path names its camera and time. Pure.
 *
 * The regex has the named groups `camera` and `epoch`, written JavaScript style
 * `(?<camera>…)` or Python style `(?P<camera>…)` (the seed's importer was Python; `(?P=name)`
 * back-references are converted too). It must match the whole string, tried against:
 * 1. the path relative to the import folder, `/`-separated (`site-a/cam1-1511893800.mp4`);
 * 2. then the absolute path of the folder's real path joined with it
 *    (`/data/in/site-a/cam1-1511893800.mp4`), which is what the seed's example assumes: it
 *    starts with `.*` and a slash, so it matches a file at the top of the folder this way.
 */

export class BadImportPatternError extends PermanentError {
  constructor(message: string, cause?: unknown) {
    super('BAD_IMPORT_REGEX', message, cause);
  }
}

/** Python's `(?P<name>` and `(?P=name)` in JavaScript syntax; anything else is left as written. */
export function toJavaScriptRegex(source: string): string {
  // Skip escaped characters so that `\(?P<x>` (a literal parenthesis) is not converted.
  return source.replace(/\\.|\(\?P<([A-Za-z_]\w*)>|\(\?P=([A-Za-z_]\w*)\)/g, (m, named?: string, backref?: string) => {
    if (named !== undefined) return `(?<${named}>`;
    if (backref !== undefined) return `\\k<${backref}>`;
    return m;
  });
}

/** Compiles `--regex`, anchored at both ends. @throws BadImportPatternError */
export function compileNamePattern(source: string): RegExp {
  const js = toJavaScriptRegex(source);
  let re: RegExp;
  try {
    // Without the `u` flag: Python accepts identity escapes such as the seed's `\-`, which
    // unicode mode refuses.
    re = new RegExp(`^(?:${js})$`);
  } catch (err) {
    throw new BadImportPatternError(`--regex is not a valid regular expression: ${(err as Error).message}`, err);
  }
  const groups = new RegExp(`${js}|`).exec('')?.groups ?? {};
  for (const name of ['camera', 'epoch']) {
    if (!(name in groups)) throw new BadImportPatternError(`--regex must have a named group "${name}": (?<${name}>…) or (?P<${name}>…)`);
  }
  return re;
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
export function matchVideoName(re: RegExp, relPath: string, absPath: string, ext: string): NameMatch {
  const m = re.exec(relPath) ?? re.exec(absPath);
  if (!m) return { ok: false, reason: 'the name does not match --regex' };
  const camera = m.groups?.camera;
  const epoch = m.groups?.epoch;
  if (camera === undefined || camera === '') return { ok: false, reason: 'the regex matched without a camera' };
  if (epoch === undefined || epoch === '') return { ok: false, reason: 'the regex matched without an epoch' };
  if (!CAMERA.test(camera)) {
    return { ok: false, reason: 'the camera name must be 1-128 letters, digits, ".", "_" or "-", starting with a letter, digit or "_"' };
  }
  if (!/^\d{1,12}$/.test(epoch) || Number(epoch) > MAX_EPOCH) {
    return { ok: false, reason: 'the epoch must be whole seconds since 1970 (at most 12 digits)' };
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
