/**
 * The results table: text columns left-aligned (test/bench/table.ts right-aligns every
 * column but the first, which suits numbers, not sentences), the last column (seconds) right.
 */
export function printResults(header: string[], rows: (string | number)[][]): void {
  const cells = rows.map((r) => r.map(String));
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]!.length)));
  const last = header.length - 1;
  const line = (r: string[]) => `| ${r.map((c, i) => (i === last ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(' | ')} |`;
  console.log(`\n${line(header)}`);
  console.log(`|${widths.map((w, i) => (i === last ? `${'-'.repeat(w + 1)}:` : `:${'-'.repeat(w + 1)}`)).join('|')}|`);
  for (const r of cells) console.log(line(r));
}
