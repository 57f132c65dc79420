// What the CLI prints, in flux's shapes: status lines on stderr with flux's symbols (► ◎ ✔ ⚠️ ✗),
// tables on stdout laid out like flux's tablewriter settings (left-aligned cells padded to the column
// width, each followed by a tab, headers upper-cased), and objects as JSON or YAML.
import { dumpYaml } from '../runtime/helm/yaml.ts';
import { CliError } from './errors.ts';

/** Where output goes; main.ts wires process.stdout/stderr, tests collect strings. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
}

export interface Logger {
  action(msg: string): void;
  waiting(msg: string): void;
  success(msg: string): void;
  warning(msg: string): void;
  failure(msg: string): void;
}

/** flux's stderr logger: one symbol-prefixed line per message. */
export function createLogger(io: Io): Logger {
  const line = (symbol: string) => (msg: string) => io.err(`${symbol} ${msg}\n`);
  return {
    action: line('►'),
    waiting: line('◎'),
    success: line('✔'),
    warning: line('⚠️'),
    failure: line('✗'),
  };
}

// SHA-1 up to SHA-512 in hex, as a whole word; flux shortens these to 8 characters in tables.
const longHex = /\b[a-f0-9]{40,128}\b/g;

/** Shortens every 40–128 character hex word to its first 8 characters (flux's TruncateHex). */
export const truncateHex = (s: string): string => s.replace(longHex, (h) => h.slice(0, 8));

// Code points, not UTF-16 units, so a message with an emoji or accents does not skew the columns.
const width = (s: string): number => [...s].length;

/**
 * A table as flux prints it: header upper-cased, every cell left-aligned, padded to its column's width
 * and followed by a tab; a cell with newlines spans several lines. Without a header only rows print.
 */
export function renderTable(
  header: readonly string[] | undefined,
  rows: readonly (readonly string[])[],
): string {
  const all = header ? [header.map((h) => h.toUpperCase()), ...rows] : [...rows];
  const columns = Math.max(0, ...all.map((r) => r.length));
  const widths = Array.from({ length: columns }, (_, c) =>
    Math.max(0, ...all.flatMap((r) => (r[c] ?? '').split('\n').map(width))),
  );
  let text = '';
  for (const row of all) {
    const cells = widths.map((_, c) => (row[c] ?? '').split('\n'));
    const height = Math.max(1, ...cells.map((lines) => lines.length));
    for (let i = 0; i < height; i++) {
      text += `${cells.map((lines, c) => pad(lines[i] ?? '', widths[c] ?? 0)).join('\t')}\t\n`;
    }
  }
  return text;
}

const pad = (s: string, w: number): string => s + ' '.repeat(Math.max(0, w - width(s)));

export type OutputFormat = 'table' | 'json' | 'yaml';

/** The -o/--output value: table (default), json or yaml. */
export function outputFormat(value: string | undefined): OutputFormat {
  if (value === undefined || value === '' || value === 'table') return 'table';
  if (value === 'json' || value === 'yaml') return value;
  throw new CliError(`unsupported output format "${value}": want table, json or yaml`);
}

/**
 * Objects as kubectl prints them: one object by itself, several as a v1 List; JSON indented, YAML
 * with sorted keys (as Go's sigs.k8s.io/yaml writes them).
 */
export function formatObjects(objects: readonly unknown[], format: 'json' | 'yaml', single: boolean): string {
  const value =
    single && objects.length === 1 ? objects[0] : { apiVersion: 'v1', kind: 'List', items: objects };
  return format === 'json' ? `${JSON.stringify(value, null, 2)}\n` : dumpYaml(value);
}

/** Several objects as one multi-document YAML stream (`---` between them), as `flux export` prints. */
export const yamlStream = (objects: readonly unknown[]): string =>
  objects.map((o) => `---\n${dumpYaml(o)}`).join('');
