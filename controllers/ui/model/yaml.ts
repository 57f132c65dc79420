// A small YAML emitter for the object page's YAML tab (the browser has no YAML library): block maps and
// sequences, strings quoted (as JSON) only when plain YAML would read them as something else, multi-line
// strings as literal blocks. Pure.

const plainSafe = /^[A-Za-z0-9_./][A-Za-z0-9_./:@+=, -]*$/;
const reserved = /^(true|false|yes|no|on|off|y|n|null|~|-?[0-9][0-9_.eE+-]*|0x[0-9a-fA-F]+|\.inf|\.nan)$/i;

function scalar(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  const s = String(v);
  if (
    s === '' ||
    !plainSafe.test(s) ||
    reserved.test(s) ||
    s.endsWith(' ') ||
    s.includes(': ') ||
    s.includes(' #')
  )
    return JSON.stringify(s);
  return s;
}

const isBlock = (x: unknown) => x !== null && typeof x === 'object' && Object.keys(x).length > 0;

function emitList(v: unknown[], indent: string, out: string[], prefix: string): void {
  if (!v.length) return void out.push(`${prefix}[]`);
  if (prefix) out.push(prefix.trimEnd());
  for (const item of v) {
    if (!isBlock(item)) {
      emit(item, `${indent}  `, out, `${indent}- `);
      continue;
    }
    const inner: string[] = [];
    emit(item, `${indent}  `, inner, '');
    out.push(`${indent}- ${(inner[0] ?? '').trimStart()}`, ...inner.slice(1));
  }
}

function emitMap(v: Record<string, unknown>, indent: string, out: string[], prefix: string): void {
  const entries = Object.entries(v).filter(([, x]) => x !== undefined);
  if (!entries.length) return void out.push(`${prefix}{}`);
  if (prefix) out.push(prefix.trimEnd());
  for (const [k, x] of entries) {
    // A block list sits at the key's indentation, a block map one level in, a scalar after the colon.
    if (isBlock(x)) emit(x, Array.isArray(x) ? indent : `${indent}  `, out, `${indent}${scalar(k)}:`);
    else emit(x, `${indent}  `, out, `${indent}${scalar(k)}: `);
  }
}

function emit(v: unknown, indent: string, out: string[], prefix: string): void {
  if (Array.isArray(v)) emitList(v, indent, out, prefix);
  else if (v !== null && typeof v === 'object') emitMap(v as Record<string, unknown>, indent, out, prefix);
  else if (typeof v === 'string' && v.includes('\n')) {
    out.push(`${prefix}|${v.endsWith('\n') ? '' : '-'}`);
    for (const line of v.replace(/\n$/, '').split('\n')) out.push(line ? `${indent}${line}` : '');
  } else out.push(`${prefix}${scalar(v)}`);
}

/** The value as block YAML. */
export function toYaml(value: unknown): string {
  const out: string[] = [];
  emit(value, '', out, '');
  return `${out.join('\n')}\n`;
}
