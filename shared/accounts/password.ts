import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { PermanentError } from '../errors.ts';

/**
 * Console passwords, hashed with scrypt (node:crypto, no dependency) into one string that
 * names its own parameters: `scrypt$N=32768,r=8,p=1$<salt base64>$<hash base64>`. A later
 * change of cost is a new string, and the rows hashed before it still verify.
 *
 * N=2^15, r=8, p=1 is OWASP's minimum for scrypt (Password Storage Cheat Sheet): about
 * 32 MiB and 0.1 s per hash, which is what makes a stolen table slow to guess through.
 */
const COST = { N: 2 ** 15, r: 8, p: 1 } as const;
const SALT_BYTES = 16;
const KEY_BYTES = 32;
/** At least this long; a generated one is longer. */
export const MIN_PASSWORD_LENGTH = 12;
/** scrypt hashes anything, but a megabyte "password" is a mistake (or an attack on the CPU). */
export const MAX_PASSWORD_LENGTH = 1024;
// Stored strings are read back, so a tampered row must not ask for gigabytes: N up to 2^20.
const MAX_N = 2 ** 20;

/** A password's hash as `console_user.password_hash` keeps it. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, KEY_BYTES, COST);
  return `scrypt$N=${COST.N},r=${COST.r},p=${COST.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/**
 * Whether `password` is the one `stored` was made from, compared in constant time. A
 * string that is not a hash this module makes verifies nothing (false, never an error), so
 * a damaged row is a failed sign-in, not a crash.
 */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parseHash(stored);
  if (!parsed) return false;
  const key = await derive(password, parsed.salt, parsed.hash.length, parsed.cost);
  return timingSafeEqual(key, parsed.hash);
}

/** A password for an account made without one: 24 characters of base64url from 18 random bytes (144 bits). */
export function generatePassword(): string {
  return randomBytes(18).toString('base64url');
}

/** Refuses a chosen password that is too short or too long, with a code. */
export function checkNewPassword(password: string): void {
  if (password.length === 0) throw new PermanentError('PASSWORD_EMPTY', 'refused: the password is empty (PASSWORD_EMPTY)');
  if ([...password].length < MIN_PASSWORD_LENGTH) {
    throw new PermanentError('PASSWORD_TOO_SHORT', `refused: the password has fewer than ${MIN_PASSWORD_LENGTH} characters (PASSWORD_TOO_SHORT)`);
  }
  if (password.length > MAX_PASSWORD_LENGTH) {
    throw new PermanentError('PASSWORD_TOO_LONG', `refused: the password has more than ${MAX_PASSWORD_LENGTH} characters (PASSWORD_TOO_LONG)`);
  }
}

interface Cost {
  N: number;
  r: number;
  p: number;
}

function parseHash(stored: string): { cost: Cost; salt: Buffer; hash: Buffer } | undefined {
  const m = /^scrypt\$N=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/.exec(stored);
  if (!m) return undefined;
  const cost = { N: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  const powerOfTwo = cost.N > 1 && (cost.N & (cost.N - 1)) === 0;
  if (!powerOfTwo || cost.N > MAX_N || cost.r < 1 || cost.r > 32 || cost.p < 1 || cost.p > 16) return undefined;
  const salt = Buffer.from(m[4]!, 'base64');
  const hash = Buffer.from(m[5]!, 'base64');
  if (salt.length < 8 || hash.length < 16) return undefined;
  return { cost, salt, hash };
}

function derive(password: string, salt: Buffer, keyBytes: number, cost: Cost): Promise<Buffer> {
  // scrypt needs 128·N·r bytes; Node's default maxmem (32 MiB) is exactly OWASP's N=2^15, r=8
  // and refuses it, so allow twice what the parameters need.
  const options: ScryptOptions = { N: cost.N, r: cost.r, p: cost.p, maxmem: 2 * 128 * cost.N * cost.r };
  return new Promise((resolve, reject) => {
    // NFC: the same password typed where the keyboard sends decomposed accents (macOS) hashes the same.
    scrypt(password.normalize('NFC'), salt, keyBytes, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}
