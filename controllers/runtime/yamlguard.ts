// Limits on what a parsed YAML document may become, for text from repositories, charts and values
// (go-yaml's "excessive aliasing" check, and its refusal of invalid UTF-8). js-yaml resolves an alias to
// the very object its anchor made, so a "billion laughs" document parses in microseconds into a small
// graph whose expansion — what every later step (JSON encoding, comparison, apply, dump) walks — has
// billions of nodes. The check counts that expansion without doing it, in time linear in the graph.

/**
 * The largest YAML document read, in bytes of text. The apiserver refuses any request body over 3 MiB
 * (and etcd any object over 1.5 MiB), so no document that can be applied comes near it; a larger one is
 * refused before it is parsed, which would cost about ten times its size in memory.
 */
export const MAX_DOCUMENT_BYTES = 8 * 1024 * 1024;
/** Expanded nodes any document may have, whatever its aliasing. */
const MIN_EXPANSION_ALLOWED = 400_000;
/** Beyond that, aliases may make a document at most this many times larger than its own nodes. */
const MAX_EXPANSION_RATIO = 10;

/** A document refused by these limits; the message says why, for Ready=False. */
export class YamlLimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'YamlLimitError';
  }
}

/**
 * Throws YamlLimitError when `docs` (parsed values, sharing objects where the text had aliases)
 * expand to too many nodes, or hold a cycle (an anchor used inside itself).
 */
export function checkAliasExpansion(docs: readonly unknown[]): void {
  const walk = new ExpansionWalk();
  let expanded = 0; // nodes of the documents with every alias replaced by a copy
  for (const doc of docs) {
    expanded += walk.expandedSize(doc);
    if (expanded > MIN_EXPANSION_ALLOWED && expanded > MAX_EXPANSION_RATIO * walk.graph) {
      throw new YamlLimitError('document contains excessive aliasing');
    }
  }
}

type Frame = { node: object; children: unknown[]; next: number; total: number };

/** Expanded sizes by an iterative post-order walk: deep documents must not exhaust the stack here. */
class ExpansionWalk {
  /** Nodes and alias references of the text: what parsing built. */
  graph = 0;
  // Expanded size of each object met, computed once: shared objects are not walked again.
  private readonly size = new Map<object, number>();
  private readonly stack: Frame[] = [];
  private readonly onStack = new Set<object>();

  expandedSize(root: unknown): number {
    this.graph++;
    if (typeof root !== 'object' || root === null) return 1;
    this.open(root);
    for (;;) {
      const top = this.stack[this.stack.length - 1] as Frame;
      if (top.next < top.children.length) {
        this.visit(top, top.children[top.next++]);
        continue;
      }
      this.stack.pop();
      this.onStack.delete(top.node);
      this.size.set(top.node, top.total);
      const parent = this.stack[this.stack.length - 1];
      if (!parent) return top.total;
      parent.total += top.total;
    }
  }

  private visit(parent: Frame, child: unknown): void {
    if (typeof child !== 'object' || child === null) parent.total++;
    else if (this.size.has(child)) parent.total += this.size.get(child) as number;
    else if (this.onStack.has(child)) throw new YamlLimitError('document contains a recursive alias');
    else this.open(child);
  }

  private open(node: object): void {
    this.onStack.add(node);
    const children = Object.values(node);
    this.graph += children.length;
    this.stack.push({ node, children, next: 0, total: 1 });
  }
}

/** Throws YamlLimitError when a document of `text` (documents end at a `---` or `...` line) is too large. */
export function checkDocumentSizes(text: string): void {
  if (text.length <= MAX_DOCUMENT_BYTES / 3) return; // a UTF-16 code unit is at most 3 bytes of UTF-8
  const marker = /^(?:---|\.\.\.)(?=[ \t\r\n]|$)/gm;
  let start = 0;
  const check = (end: number) => {
    if (
      end - start > MAX_DOCUMENT_BYTES / 3 &&
      Buffer.byteLength(text.slice(start, end)) > MAX_DOCUMENT_BYTES
    )
      throw new YamlLimitError(`document larger than ${MAX_DOCUMENT_BYTES} bytes`);
  };
  for (const m of text.matchAll(marker)) {
    check(m.index);
    start = m.index;
  }
  check(text.length);
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** The text of `bytes`, refusing what is not UTF-8 (a lenient decode would apply U+FFFD silently). */
export function decodeUtf8(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new YamlLimitError('invalid UTF-8');
  }
}
