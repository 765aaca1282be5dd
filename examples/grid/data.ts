// The two image-classification tasks of the trained comparison, as [N, H, W, C] grids:
// - digits: the 8x8 handwritten digits (1,797 images, pixel counts 0..16 scaled to [0, 1],
//   labels 0-9), split by a seeded shuffle;
// - paths: a generated task where only context across the image decides the label. Each
//   16x16 image (channel 0: path pixels, channel 1: two markers) holds two staircase paths
//   (steps right or down) that never touch; one marker sits at the upper-left end of the
//   first path and the other at the lower-right end of the first path (label 1: joined) or
//   of the second (label 0). Locally both classes look the same (two paths, two markers at
//   path ends): telling them apart means following a path from one marker to the other.

/** A labelled set of images. */
export interface Dataset {
  /** [N, H, W, C], row-major. */
  images: Float32Array;
  labels: Int32Array;
  count: number;
  height: number;
  width: number;
  channels: number;
  classes: number;
}

/** A seeded generator (mulberry32): the same stream in every runtime. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher-Yates order of 0..n-1 for a seed. */
export function shuffledOrder(n: number, seed: number): Int32Array {
  const order = Int32Array.from({ length: n }, (_, i) => i);
  const random = seededRandom(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/** The rows `order[from..to)` of a dataset. */
export function subset(data: Dataset, order: Int32Array, from: number, to: number): Dataset {
  const pixels = data.height * data.width * data.channels;
  const count = to - from;
  const images = new Float32Array(count * pixels), labels = new Int32Array(count);
  for (let k = 0; k < count; k++) {
    const src = order[from + k];
    images.set(data.images.subarray(src * pixels, (src + 1) * pixels), k * pixels);
    labels[k] = data.labels[src];
  }
  return { ...data, images, labels, count };
}

/** Parse the digits CSV (64 pixel counts 0..16 then the label, one image a line). */
export function parseDigits(csv: string): Dataset {
  const lines = csv.split('\n').filter((line) => line.trim() !== '');
  const images = new Float32Array(lines.length * 64), labels = new Int32Array(lines.length);
  lines.forEach((line, n) => {
    const values = line.split(',').map(Number);
    if (values.length !== 65 || values.some((v) => !Number.isFinite(v))) throw new Error(`digits: line ${n + 1} is not 64 pixels and a label`);
    for (let p = 0; p < 64; p++) images[n * 64 + p] = values[p] / 16;
    labels[n] = values[64];
  });
  return { images, labels, count: lines.length, height: 8, width: 8, channels: 1, classes: 10 };
}

/** Split a dataset by a seeded shuffle: the first `testCount` shuffled images are the test set. */
export function splitTrainTest(data: Dataset, testCount: number, seed: number): { train: Dataset; test: Dataset } {
  const order = shuffledOrder(data.count, seed);
  return { test: subset(data, order, 0, testCount), train: subset(data, order, testCount, data.count) };
}

type Cell = [number, number];

/** A staircase path of `length` cells from a random start in the upper-left part of the grid. */
function staircase(random: () => number, size: number, length: number): Cell[] {
  const limit = size - 1;
  let i = Math.floor(random() * (size / 2)), j = Math.floor(random() * (size / 2));
  const path: Cell[] = [[i, j]];
  while (path.length < length && (i < limit || j < limit)) {
    if (j === limit || (i < limit && random() < 0.5)) i++;
    else j++;
    path.push([i, j]);
  }
  return path;
}

/** True when a cell of `a` equals or 4-neighbours a cell of `b` (the paths would join). */
function touches(a: Cell[], b: Cell[]): boolean {
  const taken = new Set(a.map(([i, j]) => i * 1000 + j));
  return b.some(([i, j]) => [[0, 0], [1, 0], [-1, 0], [0, 1], [0, -1]].some(([di, dj]) => taken.has((i + di) * 1000 + j + dj)));
}

/** `count` path images of size x size, half of each class, for a seed (see the file header). */
export function makePaths(count: number, size: number, seed: number): Dataset {
  const random = seededRandom(seed);
  const channels = 2;
  const images = new Float32Array(count * size * size * channels), labels = new Int32Array(count);
  const minLength = Math.floor(size * 0.75), maxLength = 2 * size - 3;
  for (let n = 0; n < count; n++) {
    let first: Cell[], second: Cell[];
    do {
      const length = () => minLength + Math.floor(random() * (maxLength - minLength));
      first = staircase(random, size, length());
      second = staircase(random, size, length());
    } while (first.length < minLength || second.length < minLength || touches(first, second));
    const joined = n % 2 === 0;
    const at = (i: number, j: number, c: number) => ((n * size + i) * size + j) * channels + c;
    for (const [i, j] of [...first, ...second]) images[at(i, j, 0)] = 1;
    const [si, sj] = first[0];
    const [ei, ej] = (joined ? first : second)[(joined ? first : second).length - 1];
    images[at(si, sj, 1)] = 1;
    images[at(ei, ej, 1)] = 1;
    labels[n] = joined ? 1 : 0;
  }
  return { images, labels, count, height: size, width: size, channels, classes: 2 };
}

/**
 * `count` images of size x size (one channel) with two marked pixels in different rows and
 * columns; label 1 when one is above-left of the other (a falling diagonal), 0 when one is
 * above-right (a rising one). Each class is the other mirrored left-right, so a pixel's
 * neighbourhood says nothing about the label: only the two far-apart pixels together do.
 * Half of each class, for a seed.
 */
export function makeDiagonals(count: number, size: number, seed: number): Dataset {
  const random = seededRandom(seed);
  const images = new Float32Array(count * size * size), labels = new Int32Array(count);
  const pick = () => Math.floor(random() * size);
  for (let n = 0; n < count; n++) {
    labels[n] = n % 2 === 0 ? 1 : 0;
    let ia: number, ja: number, ib: number, jb: number;
    do {
      [ia, ja, ib, jb] = [pick(), pick(), pick(), pick()];
    } while (ia === ib || ja === jb || ((ia - ib) * (ja - jb) > 0 ? 1 : 0) !== labels[n]);
    images[(n * size + ia) * size + ja] = 1;
    images[(n * size + ib) * size + jb] = 1;
  }
  return { images, labels, count, height: size, width: size, channels: 1, classes: 2 };
}
