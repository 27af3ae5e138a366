import { printable } from '../printable.ts';

/**
 * `vigil import`'s progress on stderr: a bar redrawn in place on a terminal, plain lines
 * (one per file) otherwise, so a log file or CI output stays readable. Lines carry file
 * names, which anyone who can write to the folder chooses: they are printed escaped.
 */
export interface ImportProgress {
  /** Announces a note about one file that is not an upload (skipped, left for later). */
  note(line: string): void;
  /** One file's upload finished, whatever its outcome. */
  fileDone(outcome: 'uploaded' | 'failed' | 'later', line: string, bytes: number): void;
  /** Clears the bar; plain lines need nothing. */
  end(): void;
}

const BAR = 30;

export function createProgress(write: (text: string) => void, isTTY: boolean, total: { files: number; bytes: number }): ImportProgress {
  // The bar's own controls are added after the escaping.
  const line = (text: string) => `${printable(text)}\n`;
  const started = performance.now();
  let files = 0;
  let bytes = 0;
  let drawn = 0;
  const draw = (force = false) => {
    const now = performance.now();
    if (!force && now - drawn < 100) return;
    drawn = now;
    const ratio = total.bytes > 0 ? bytes / total.bytes : total.files > 0 ? files / total.files : 1;
    const full = Math.round(ratio * BAR);
    const rate = bytes / 1e6 / Math.max((now - started) / 1000, 1e-3);
    write(`\r\x1b[2K[${'#'.repeat(full)}${'.'.repeat(BAR - full)}] ${files}/${total.files} files ${mb(bytes)}/${mb(total.bytes)} ${rate.toFixed(1)} MB/s`);
  };
  if (!isTTY) {
    return {
      note: (text) => write(line(text)),
      fileDone: (_o, text) => write(line(text)),
      end: () => undefined,
    };
  }
  return {
    note(text) {
      // Above the bar: clear it, print the line, draw it again.
      write(`\r\x1b[2K${line(text)}`);
      draw(true);
    },
    fileDone(outcome, text, n) {
      files += 1;
      bytes += n;
      if (outcome !== 'uploaded') write(`\r\x1b[2K${line(text)}`);
      draw(outcome !== 'uploaded' || files === total.files);
    },
    end() {
      if (total.files > 0) write('\n');
    },
  };
}

const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
