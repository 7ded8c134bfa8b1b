// Finds where in a document the nodes named by libxml2 error paths are.
// libxml2 reports a schema error with the line of its node but no column, plus the node's
// path as xmlGetNodePath writes it, e.g. /*/*[2]/*[15]/*[1] (elements in a default
// namespace: '*' indexed among all element siblings), /l:BatchRequest/l:Requests/l:Request[3]
// (prefixed: indexed among same-named siblings; no index = the only one), or …/@seq.
// One scan of the document resolves all the paths of a slice to the '<' of the element's
// start tag, or to the attribute's name.
import { XmlByteScanner, type ScanHandler } from './xmlScan.js';

export interface Located {
  line: number;
  column: number;
}

interface TrieNode {
  children: Map<string, TrieNode>;
  /** Paths that end at this element. */
  targets: string[];
  /** Attribute name → paths that end at that attribute of this element. */
  attrs: Map<string, string[]>;
}

const newNode = (): TrieNode => ({ children: new Map(), targets: [], attrs: new Map() });

/** Step of a path, normalized to name[index] ('*' or a QName); undefined if not an element step. */
function elementStep(step: string): string | undefined {
  const m = /^(\*|[^\s[\]/@()]+)(?:\[(\d+)\])?$/.exec(step);
  return m ? `${m[1]}[${m[2] ?? '1'}]` : undefined;
}

function buildTrie(paths: Iterable<string>): TrieNode {
  const root = newNode();
  for (const path of paths) {
    if (!path.startsWith('/')) continue;
    const steps = path.slice(1).split('/');
    let node = root;
    let ok = true;
    for (let i = 0; i < steps.length && ok; i++) {
      const step = steps[i];
      if (step.startsWith('@') && i === steps.length - 1) {
        const list = node.attrs.get(step.slice(1)) ?? [];
        list.push(path);
        node.attrs.set(step.slice(1), list);
        ok = false; // done
        continue;
      }
      const key = elementStep(step);
      if (!key) {
        ok = false;
        continue;
      }
      let child = node.children.get(key);
      if (!child) {
        child = newNode();
        node.children.set(key, child);
      }
      node = child;
      if (i === steps.length - 1) node.targets.push(path);
    }
  }
  return root;
}

interface Frame {
  node: TrieNode | null;
  total: number;
  byName: Map<string, number>;
}

class Locator implements ScanHandler {
  readonly found = new Map<string, Located>();
  private readonly stack: Frame[];
  private current: TrieNode | null = null;

  constructor(root: TrieNode) {
    this.stack = [{ node: root, total: 0, byName: new Map() }];
  }

  startName(s: XmlByteScanner, depth: number): void {
    const frame = this.stack[depth];
    this.current = null;
    if (!frame || !frame.node) return;
    const qname = s.name;
    frame.total++;
    const n = (frame.byName.get(qname) ?? 0) + 1;
    frame.byName.set(qname, n);
    const children = frame.node.children;
    const node = qname.includes(':')
      ? children.get(`${qname}[${n}]`)
      : (children.get(`*[${frame.total}]`) ?? children.get(`${qname}[${n}]`));
    if (!node) return;
    this.current = node;
    for (const path of node.targets) this.found.set(path, { line: s.tagLine, column: s.tagColumn });
    if (node.attrs.size > 0) s.captureAttrs = true;
  }

  startTag(s: XmlByteScanner, depth: number): void {
    const node = this.current;
    if (node && node.attrs.size > 0) {
      for (const a of s.attrs) {
        for (const path of node.attrs.get(a.name) ?? []) this.found.set(path, { line: a.line, column: a.column });
      }
    }
    if (!s.selfClosing) {
      this.stack[depth + 1] = { node, total: 0, byName: node ? new Map() : EMPTY };
    }
    this.current = null;
  }
}

const EMPTY = new Map<string, number>();

/** Positions of the given libxml2 node paths in `doc`; paths not found are absent from the map. */
export function locatePaths(doc: Uint8Array, paths: Iterable<string>): Map<string, Located> {
  const trie = buildTrie(paths);
  if (trie.children.size === 0) return new Map();
  const locator = new Locator(trie);
  new XmlByteScanner(locator).feed(doc);
  return locator.found;
}
