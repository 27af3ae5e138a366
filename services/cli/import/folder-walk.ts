import { lstat, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { wantedExtension } from './name-pattern.ts';

/** A regular file found under the import folder with one of the wanted extensions. */
export interface FoundFile {
  /** Relative to the folder, `/`-separated. */
  relPath: string;
  /** The folder's real path joined with the file's relative path. */
  absPath: string;
  ext: string;
  size: number;
  mtimeMs: number;
  /** The file's identity as walked: the upload reads only this very file. */
  dev: bigint;
  ino: bigint;
}

/** An entry passed over, with why (reported, never uploaded). */
export interface PassedOver {
  relPath: string;
  reason: string;
}

/**
 * Every wanted file under `root` (an absolute real path), recursively, in path order.
 * Symbolic links are not followed, whether to files or folders (a link could lead out of
 * the folder, or in a loop), and nothing but regular files is read (a FIFO would block the
 * import). Links to folders, links with a wanted extension and unreadable folders are
 * passed over with the reason; files of other extensions are ignored silently.
 */
export async function walkFolder(root: string, exts: readonly string[]): Promise<{ files: FoundFile[]; passedOver: PassedOver[] }> {
  const files: FoundFile[] = [];
  const passedOver: PassedOver[] = [];
  const visit = async (rel: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(rel === '' ? root : join(root, rel), { withFileTypes: true });
    } catch (err) {
      passedOver.push({ relPath: rel, reason: `folder not readable (${(err as NodeJS.ErrnoException).code ?? 'error'})` });
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const relPath = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) {
        await visit(relPath);
        continue;
      }
      const ext = wantedExtension(e.name, exts);
      if (e.isSymbolicLink()) {
        if (ext !== undefined) passedOver.push({ relPath, reason: 'a symbolic link (not followed)' });
        // A linked folder's videos are not imported: the operator must hear of it, or they
        // would seem imported. Only its type is looked at, nothing in it is read.
        else if ((await stat(join(root, relPath)).catch(() => undefined))?.isDirectory()) {
          passedOver.push({ relPath, reason: 'a symbolic link to a folder (not followed: the files in it are not imported)' });
        }
        continue;
      }
      if (ext === undefined) continue;
      if (!e.isFile()) {
        passedOver.push({ relPath, reason: 'not a regular file' });
        continue;
      }
      const absPath = join(root, relPath);
      try {
        const st = await lstat(absPath, { bigint: true });
        if (!st.isFile()) passedOver.push({ relPath, reason: 'not a regular file' });
        else files.push({ relPath, absPath, ext, size: Number(st.size), mtimeMs: Number(st.mtimeMs), dev: st.dev, ino: st.ino });
      } catch (err) {
        passedOver.push({ relPath, reason: `not readable (${(err as NodeJS.ErrnoException).code ?? 'error'})` });
      }
    }
  };
  await visit('');
  return { files, passedOver };
}
