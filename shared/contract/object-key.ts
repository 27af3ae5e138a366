import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { PermanentError } from '../errors.ts';

/**
 * Object keys come from outside (job bodies, bucket events, listings) and are attacker
 * controlled. S3 accepts nearly any UTF-8 key, a file system does not, so a key only
 * becomes a local path or a name through these checks. Everything here is pure.
 */

/** S3's own limit on a key, in UTF-8 bytes. */
export const MAX_KEY_BYTES = 1024;
/** The usual file system limit (ext4, xfs, tmpfs) on one path segment, in bytes. */
export const MAX_SEGMENT_BYTES = 255;

export class BadObjectKeyError extends PermanentError {
  constructor(message: string, cause?: unknown) {
    super('BAD_OBJECT_KEY', message, cause);
  }
}

// C0/C1 controls and DEL; lone surrogates (no file system can store them as given); and
// the bidi overrides and isolates, which make a name read differently from what it is.
const FORBIDDEN_CHARS = /[\p{Cc}\p{Cs}\u202A-\u202E\u2066-\u2069]/u;

/**
 * The key of an S3/MinIO event notification decoded: those keys are URL-encoded
 * (form style, `+` for a space, `%2B` for a plus).
 * @throws BadObjectKeyError for broken percent-encoding, invalid UTF-8, or an empty or
 *   over-long key.
 */
export function decodeEventKey(raw: string): string {
  let key: string;
  try {
    key = decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch (err) {
    throw new BadObjectKeyError('S3 event key is not valid URL encoding', err);
  }
  checkKeyLength(key);
  return key;
}

export class BadBucketNameError extends PermanentError {
  constructor(message: string) {
    super('BAD_BUCKET_NAME', message);
  }
}

/** S3's bucket naming rules (path-style): 3-63 of a-z 0-9 . -, a letter or digit at each end, no `..`. */
export function isBucketName(name: string): boolean {
  return /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name) && !name.includes('..');
}

/** @throws BadBucketNameError, without echoing the name (it may hold anything). */
export function checkBucketName(name: string): string {
  if (!isBucketName(name)) throw new BadBucketNameError('bucket name must be 3-63 of a-z 0-9 . - (S3 naming rules)');
  return name;
}

/**
 * The key as every store operation takes it: no leading `/`, no empty, `.` or `..`
 * segment, no control or bidi characters, within the length limits. Some S3 servers
 * normalise paths, so `cam9/../cam3/keep.avi` would reach another object, and
 * `../video-library/x` another bucket.
 * @throws BadObjectKeyError
 */
export function checkObjectKey(key: string): string {
  safeRelativePath(key);
  return key;
}

/** A listing prefix: a key, or a key followed by `/`; empty lists the whole bucket. */
export function checkKeyPrefix(prefix: string): string {
  if (prefix === '') return prefix;
  checkObjectKey(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix);
  return prefix;
}

/**
 * The key as a relative path of checked segments, for a file under a work directory.
 * @throws BadObjectKeyError for an absolute key, an empty, `.` or `..` segment, NUL,
 *   backslashes, control or bidi characters, or a key or segment over the length limits.
 */
export function safeRelativePath(key: string): string {
  checkKeyLength(key);
  if (key.startsWith('/')) throw new BadObjectKeyError('object key must not be absolute');
  const segments = key.split('/');
  for (const s of segments) checkSegment(s);
  return segments.join(sep);
}

/**
 * An absolute path for `key` inside `dir`, checked twice: by segment, then by where the
 * resolved path lands (a last guard should the rules above ever miss a case).
 */
export function localPathFor(dir: string, key: string): string {
  const base = resolve(dir);
  const path = resolve(join(base, safeRelativePath(key)));
  const rel = relative(base, path);
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
    throw new BadObjectKeyError('object key resolves outside the work directory');
  }
  return path;
}

/** The last segment of the key, checked as a file name (see `safeRelativePath`). */
export function keyFileName(key: string): string {
  checkKeyLength(key);
  const name = key.slice(key.lastIndexOf('/') + 1);
  checkSegment(name);
  return name;
}

/**
 * The file name without its last extension, for naming outputs:
 * `cam1/1511893800.avi` → `1511893800`, `a.b.avi` → `a.b`. A leading dot is part of the
 * name, not an extension (`.avi` → `.avi`).
 */
export function keyStem(key: string): string {
  const name = keyFileName(key);
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(0, dot) : name;
}

/** The last extension in lower case with its dot (`.avi`), or '' when there is none. */
export function keyExtension(key: string): string {
  const name = keyFileName(key);
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(dot).toLowerCase() : '';
}

function checkKeyLength(key: string): void {
  if (key.length === 0) throw new BadObjectKeyError('object key is empty');
  const bytes = Buffer.byteLength(key, 'utf8');
  if (bytes > MAX_KEY_BYTES) throw new BadObjectKeyError(`object key is ${bytes} bytes; the limit is ${MAX_KEY_BYTES}`);
}

function checkSegment(s: string): void {
  // The messages never echo the segment: it may hold the very characters refused.
  if (s === '') throw new BadObjectKeyError('object key has an empty path segment');
  if (s === '.' || s === '..') throw new BadObjectKeyError('object key has a "." or ".." segment');
  if (s.includes('\\')) throw new BadObjectKeyError('object key contains a backslash');
  if (FORBIDDEN_CHARS.test(s)) throw new BadObjectKeyError('object key contains a control character');
  if (Buffer.byteLength(s, 'utf8') > MAX_SEGMENT_BYTES) {
    throw new BadObjectKeyError(`object key has a path segment over ${MAX_SEGMENT_BYTES} bytes`);
  }
}

/** The key as a URL path (a `x-amz-copy-source`, a link to the object): each segment encoded, the slashes kept. */
export function keyUrlPath(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/');
}
