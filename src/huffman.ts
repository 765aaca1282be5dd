// word2vec's Huffman tree over class counts, the tree hierarchical softmax walks: each
// class is a leaf, its probability the product of one logistic decision per inner node
// on the path from the root. Built as word2vec.c's CreateBinaryTree builds it, so the
// codes and inner-node ids are word2vec.c's for the same counts:
//  - leaves sorted by descending count (ties keep id order; weft's vocabularies are
//    already in that order), inner nodes numbered 0..V-2 in the order they are made,
//    so the root is V-2 and higher ids carry higher counts (are on more paths);
//  - each step merges the two smallest of the unmerged leaves (taken from the smallest
//    end) and the inner nodes made so far (taken in the order they were made), a leaf
//    only when its count is strictly smaller (a tie goes to the inner node); the
//    second one taken is the branch with code 1.
// A class's path lists its inner nodes root first and, beside each, the code of the
// branch taken there: word2vec.c's point[0..codelen) and code[0..codelen).

import { WeftError } from './errors.js';

/** The Huffman tree of V >= 2 classes: V - 1 inner nodes, one root-to-leaf path per class. */
export interface HuffmanTree {
  /** V: the number of classes (leaves). */
  readonly classes: number;
  /** Where each path starts, [V + 1]: the path of class c is entries [offsets[c], offsets[c + 1]) of points and codes. */
  readonly offsets: Int32Array;
  /** Inner node ids in [0, V - 1), root (V - 2) first on every path. */
  readonly points: Int32Array;
  /** 0 or 1 per path entry: the branch taken at that node. */
  readonly codes: Uint8Array;
  /** The inner nodes (root first) and codes of class c's path (views). */
  path(c: number): {
    /** The inner node ids on the path, root first. */
    points: Int32Array;
    /** The branch (0 or 1) taken at each of those nodes. */
    codes: Uint8Array;
  };
}

/** The one kind of HuffmanTree: an interface outside, so the constructor and the packed paths stay inside. */
export class PreparedHuffmanTree implements HuffmanTree {
  readonly classes: number;
  readonly offsets: Int32Array;
  readonly points: Int32Array;
  readonly codes: Uint8Array;

  /** Trees come from huffmanTree (or weft.softmax.huffmanTree, which validates the counts). */
  constructor(offsets: Int32Array, points: Int32Array, codes: Uint8Array) {
    this.classes = offsets.length - 1;
    this.offsets = offsets;
    this.points = points;
    this.codes = codes;
  }

  path(c: number): { points: Int32Array; codes: Uint8Array } {
    const start = this.offsets[c], end = this.offsets[c + 1];
    return { points: this.points.subarray(start, end), codes: this.codes.subarray(start, end) };
  }

  /** Path entries as one i32 each, (point << 1) | code: what the skip-gram kernels read. */
  packedPaths(): Int32Array {
    return Int32Array.from(this.points, (point, i) => (point << 1) | this.codes[i]);
  }
}

/** The Huffman tree of `counts` (V >= 2 finite counts >= 0, validated by the caller). */
export function huffmanTree(counts: ArrayLike<number>): PreparedHuffmanTree {
  const V = counts.length;
  if (V < 2) throw new WeftError('SHAPE', `Huffman tree: it needs at least 2 classes, got ${V}`);
  // sorted position -> class id (stable: ties keep id order)
  const order = Int32Array.from({ length: V }, (_, i) => i).sort((a, b) => counts[b] - counts[a] || a - b);
  // nodes: sorted leaves 0..V-1, inner nodes V..2V-2 in the order they are made
  const count = new Float64Array(2 * V - 1);
  for (let k = 0; k < V; k++) count[k] = counts[order[k]];
  const parent = new Int32Array(2 * V - 1);
  const branch = new Uint8Array(2 * V - 1);
  let leaf = V - 1; // the smallest unmerged leaf
  let inner = V; // the oldest unmerged inner node
  const takeSmallest = (made: number): number => {
    // an inner node not made yet counts as +infinity (word2vec.c's 1e15)
    if (leaf >= 0 && (inner >= made || count[leaf] < count[inner])) return leaf--;
    return inner++;
  };
  for (let step = 0; step < V - 1; step++) {
    const made = V + step;
    const first = takeSmallest(made);
    const second = takeSmallest(made);
    count[made] = count[first] + count[second];
    parent[first] = made;
    parent[second] = made;
    branch[second] = 1;
  }
  const root = 2 * V - 2;
  const depth = new Int32Array(V);
  let total = 0;
  for (let k = 0; k < V; k++) {
    let length = 0;
    for (let node = k; node !== root; node = parent[node]) length++;
    depth[k] = length;
    total += length;
  }
  const offsets = new Int32Array(V + 1);
  for (let k = 0; k < V; k++) offsets[order[k] + 1] = depth[k];
  for (let c = 0; c < V; c++) offsets[c + 1] += offsets[c];
  const points = new Int32Array(total);
  const codes = new Uint8Array(total);
  for (let k = 0; k < V; k++) {
    // walk up from the leaf, filling the path from its end (the leaf's side)
    let at = offsets[order[k] + 1];
    for (let node = k; node !== root; node = parent[node]) {
      at--;
      points[at] = parent[node] - V;
      codes[at] = branch[node];
    }
  }
  return new PreparedHuffmanTree(offsets, points, codes);
}
