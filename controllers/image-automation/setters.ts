// The Setters update strategy: in every YAML file under the update path that mentions
// "$imagepolicy", each scalar marked with a comment `{"$imagepolicy": "<namespace>:<policy>"}` gets
// the policy's latest image (`name:tag[@digest]`); `…:tag`, `…:name` and `…:digest` markers get
// that part alone (Flux's kyaml setters). The file is parsed with a YAML library that keeps
// positions and comments, and only the marked scalar's own characters are replaced: comments,
// quoting of everything else, indentation, document separators and line endings stay byte for byte.
// A replaced value keeps its quote style, and a plain value that YAML 1.1 would read as something
// other than a string (`1.10`, `yes`) is double-quoted, as kyaml does.
import { lstat, readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { type Document, isCollection, isMap, parse, parseAllDocuments, type Scalar, visit } from 'yaml';
import { decodeUtf8 } from '../runtime/yamlguard.ts';

/** A policy the automation may apply, with the image it selected. */
export interface PolicyImage {
  namespace: string;
  name: string;
  latest: { name: string; tag: string; digest?: string };
}

/** The object a change was made in; fields are empty for documents without them. */
export interface ObjectIdentifier {
  apiVersion: string;
  kind: string;
  name: string;
  namespace: string;
}

export interface Change {
  oldValue: string;
  newValue: string;
  /** The marker's setter, e.g. `flux-system:app` or `flux-system:app:tag`. */
  setter: string;
}

export interface ObjectChanges {
  id: ObjectIdentifier;
  changes: Change[];
}

/** Changes by file (slash-separated path relative to the update path), then by object. */
export type UpdateResult = Map<string, ObjectChanges[]>;

/** A marked scalar Tide cannot rewrite without changing more than its value. */
export class SetterError extends Error {}

const token = '"$imagepolicy"';

/** The setter values of the policies: `ns:name`, `ns:name:tag`, `ns:name:name`, `ns:name:digest`. */
export function setterValues(policies: readonly PolicyImage[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const p of policies) {
    const { name, tag, digest } = p.latest;
    const key = `${p.namespace}:${p.name}`;
    out.set(key, `${name}:${tag}${digest ? `@${digest}` : ''}`);
    out.set(`${key}:tag`, tag);
    out.set(`${key}:name`, name);
    out.set(`${key}:digest`, digest ?? '');
  }
  return out;
}

/** The setter a comment names (`{"$imagepolicy": "<setter>"}`, all values strings), if any. */
export function markerOf(comment: string | undefined): string | undefined {
  if (!comment || comment.includes('\n')) return undefined;
  let doc: unknown;
  try {
    doc = JSON.parse(comment.replace(/^#+/, ''));
  } catch {
    return undefined;
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return undefined;
  const values = Object.values(doc as Record<string, unknown>);
  if (!values.every((v) => typeof v === 'string')) return undefined;
  const setter = (doc as Record<string, string>).$imagepolicy;
  return setter ? setter : undefined;
}

interface Marked {
  setter: string;
  node: Scalar;
  value: string;
  inFlow: boolean;
  id: ObjectIdentifier;
}

function identifierOf(doc: Document): ObjectIdentifier {
  const str = (path: string[]) => {
    const v = isMap(doc.contents) ? doc.getIn(path) : undefined;
    return typeof v === 'string' ? v : '';
  };
  return {
    apiVersion: str(['apiVersion']),
    kind: str(['kind']),
    name: str(['metadata', 'name']),
    namespace: str(['metadata', 'namespace']),
  };
}

/** Every marked value scalar (not keys) of the documents, in document order. */
function markedScalars(docs: Document[]): Marked[] {
  const out: Marked[] = [];
  for (const doc of docs) {
    const id = identifierOf(doc);
    visit(doc, {
      Scalar(key, node, path) {
        if (key === 'key') return;
        const setter = markerOf(node.comment ?? undefined) ?? markerOf(node.commentBefore ?? undefined);
        if (!setter) return;
        const inFlow = path.some((p) => isCollection(p) && p.flow === true);
        out.push({ setter, node, value: String(node.source ?? node.value ?? ''), inFlow, id });
      },
    });
  }
  return out;
}

/** Whether YAML (1.2 and 1.1, as kubectl and kyaml read it) takes `value` written plain as that string. */
function plainReadsAsString(value: string, inFlow: boolean): boolean {
  if (value === '' || value !== value.trim() || /[\n\r\t]/.test(value)) return false;
  if (/^[-?:,[\]{}#&*!|>'"%@`]/.test(value) || /: | #|:$/.test(value)) return false;
  if (inFlow && /[,[\]{}]/.test(value)) return false;
  try {
    return parse(value) === value && parse(value, { version: '1.1' }) === value;
  } catch {
    return false;
  }
}

/** The source text of `value` in the style of the scalar it replaces. */
export function renderScalar(value: string, style: Scalar['type'], inFlow: boolean): string {
  if (style === 'PLAIN' && plainReadsAsString(value, inFlow)) return value;
  if (style === 'QUOTE_SINGLE' && !/[\n\r]/.test(value)) return `'${value.replaceAll("'", "''")}'`;
  // JSON string syntax is YAML double-quoted syntax.
  return JSON.stringify(value);
}

const parseOptions = { keepSourceTokens: false, prettyErrors: false } as const;

/** The documents of a YAML text, or undefined when it does not parse (the file is left alone). */
function parseDocuments(text: string): Document[] | undefined {
  const docs = parseAllDocuments(text, parseOptions);
  if (!Array.isArray(docs) || docs.some((d) => d.errors.length > 0)) return undefined;
  return docs as Document[];
}

export interface FileUpdate {
  text: string;
  changes: { id: ObjectIdentifier; change: Change }[];
}

/**
 * Applies the setters to one file's text. Returns undefined when the text does not parse or nothing
 * changes; throws SetterError for a marked block scalar, or when the result would not read back as
 * exactly the intended values.
 */
export function applySetters(text: string, setters: ReadonlyMap<string, string>): FileUpdate | undefined {
  const docs = parseDocuments(text);
  if (!docs) return undefined;
  const marked = markedScalars(docs);
  const edits: { from: number; to: number; text: string }[] = [];
  const changes: FileUpdate['changes'] = [];
  const expected: string[] = [];
  for (const m of marked) {
    const next = setters.get(m.setter);
    expected.push(next ?? m.value);
    if (next === undefined || next === m.value) continue;
    const [from, to] = m.node.range ?? [];
    if (from === undefined || to === undefined)
      throw new SetterError(`the value marked '${m.setter}' has no position`);
    if (m.node.type === 'BLOCK_LITERAL' || m.node.type === 'BLOCK_FOLDED') {
      throw new SetterError(
        `the value marked '${m.setter}' is a block scalar (| or >); Tide updates plain and quoted values only`,
      );
    }
    edits.push({ from, to, text: renderScalar(next, m.node.type, m.inFlow) });
    changes.push({ id: m.id, change: { oldValue: m.value, newValue: next, setter: m.setter } });
  }
  if (edits.length === 0) return undefined;
  let out = text;
  for (const e of edits.sort((a, b) => b.from - a.from))
    out = out.slice(0, e.from) + e.text + out.slice(e.to);
  // Read the result back: every marked value must be the intended one, and nothing else moved.
  const again = parseDocuments(out);
  const got = again ? markedScalars(again).map((m) => m.value) : undefined;
  if (!got || got.length !== expected.length || got.some((v, i) => v !== expected[i])) {
    throw new SetterError('the updated file does not read back as intended; it was left unchanged');
  }
  return { text: out, changes };
}

/** YAML files (`*.yaml`, `*.yml`, `Kustomization`) below `root`, relative, without following symlinks. */
async function yamlFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string) => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const abs = join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name !== '.git') await walk(abs);
      } else if (e.isFile() && (/\.ya?ml$/.test(e.name) || e.name === 'Kustomization')) out.push(abs);
    }
  };
  const st = await lstat(root);
  if (st.isDirectory()) await walk(root);
  else if (st.isFile()) out.push(root);
  return out.sort();
}

function utf8OrUndefined(bytes: Uint8Array): string | undefined {
  try {
    return decodeUtf8(bytes);
  } catch {
    return undefined;
  }
}

/**
 * Runs the setters over the YAML files below `root` that mention "$imagepolicy", writes the files
 * that changed, and returns the changes by file (paths relative to `root`). Files that do not parse
 * as YAML are skipped, as Flux skips them. Throws SetterError naming the file for a value it cannot
 * rewrite safely; nothing is written then.
 */
export async function updateWithSetters(
  root: string,
  policies: readonly PolicyImage[],
): Promise<UpdateResult> {
  const setters = setterValues(policies);
  const result: UpdateResult = new Map();
  const writes: { path: string; text: string }[] = [];
  for (const path of await yamlFiles(root)) {
    // Not UTF-8: skipped like a file that does not parse; a lenient decode would write U+FFFD back
    // in place of the bytes it could not read.
    const text = utf8OrUndefined(await readFile(path));
    if (text === undefined || !text.includes(token)) continue;
    const rel = relative(root, path).split(sep).join('/') || path.split(sep).at(-1)!;
    let update: FileUpdate | undefined;
    try {
      update = applySetters(text, setters);
    } catch (err) {
      if (err instanceof SetterError) throw new SetterError(`${rel}: ${err.message}`);
      throw err;
    }
    if (!update) continue;
    writes.push({ path, text: update.text });
    const objects: ObjectChanges[] = [];
    for (const { id, change } of update.changes) {
      const same = objects.find((o) => JSON.stringify(o.id) === JSON.stringify(id));
      if (same) same.changes.push(change);
      else objects.push({ id, changes: [change] });
    }
    result.set(rel, objects);
  }
  for (const w of writes) await writeFile(w.path, w.text);
  return result;
}
