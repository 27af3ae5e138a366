import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { wantedExtension } from './name-pattern.ts';

/** A regular file found under the import folder with one of the wanted extensions. */
export interface FoundFile {
  /** Relative to the folder, `/`-separated. */
  relPath: string;
  absPath: string;
  ext: string;
  size: number;
  mtimeMs: number;
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
 * import). Unreadable folders are passed over with the reason; files of other extensions
 * are ignored silently.
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
      if (ext === undefined) continue;
      if (e.isSymbolicLink()) {
        passedOver.push({ relPath, reason: 'a symbolic link (not followed)' });
        continue;
      }
      if (!e.isFile()) {
        passedOver.push({ relPath, reason: 'not a regular file' });
        continue;
      }
      const absPath = join(root, relPath);
      try {
        const st = await lstat(absPath);
        if (!st.isFile()) passedOver.push({ relPath, reason: 'not a regular file' });
        else files.push({ relPath, absPath, ext, size: st.size, mtimeMs: Math.floor(st.mtimeMs) });
      } catch (err) {
        passedOver.push({ relPath, reason: `not readable (${(err as NodeJS.ErrnoException).code ?? 'error'})` });
      }
    }
  };
  await visit('');
  return { files, passedOver };
}
