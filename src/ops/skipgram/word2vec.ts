// The word2vec vector file formats (word2vec.c, gensim's load/save_word2vec_format):
//   header "<V> <dim>\n", then per word
//   text:   "<word> <v1> <v2> ... <vdim>\n" (decimal floats)
//   binary: "<word> " + dim little-endian float32 + "\n"
// Text floats are written with the fewest digits that read back to the same float32,
// so a text round trip is exact. Reading checks everything and names the line (text)
// or byte offset (binary) of the first problem. A word listed twice keeps its first
// vector (gensim ignores all but the first too).

import { WeftError, describe } from '../../errors.js';

export interface WordVectors {
  words: string[];
  /** [V, dim] */
  vectors: Float32Array;
  dim: number;
}

const encoder = new TextEncoder();

/** Shortest decimal that reads back as the float32 x (at most 9 significant digits). */
export function formatFloat32(x: number): string {
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : x < 0 ? '-inf' : 'nan';
  let text = x.toPrecision(9);
  for (let digits = 6; digits < 9; digits++) {
    const shorter = x.toPrecision(digits);
    if (Math.fround(Number(shorter)) === x) {
      text = shorter;
      break;
    }
  }
  return trimZeros(text);
}

/** "1.2500" -> "1.25", "1.000e-7" -> "1e-7", "100" stays. */
function trimZeros(text: string): string {
  const e = text.indexOf('e');
  const mantissa = e < 0 ? text : text.slice(0, e);
  const exponent = e < 0 ? '' : text.slice(e);
  if (!mantissa.includes('.')) return text;
  return mantissa.replace(/0+$/, '').replace(/\.$/, '') + exponent;
}

function checkWords(words: readonly string[]): void {
  words.forEach((w, i) => {
    if (w.length === 0 || /\s/.test(w)) {
      throw new WeftError('RANGE', `toWord2Vec: word ${i} (${JSON.stringify(w)}) is empty or contains whitespace, which the word2vec format cannot store`);
    }
  });
}

/** Serialise vectors in word2vec's text or binary format. */
export function writeWord2Vec({ words, vectors, dim }: WordVectors, binary: boolean): Uint8Array {
  checkWords(words);
  const header = encoder.encode(`${words.length} ${dim}\n`);
  if (!binary) {
    const lines: string[] = [];
    for (let v = 0; v < words.length; v++) {
      const values: string[] = new Array(dim);
      for (let k = 0; k < dim; k++) values[k] = formatFloat32(vectors[v * dim + k]);
      lines.push(`${words[v]} ${values.join(' ')}\n`);
    }
    const body = encoder.encode(lines.join(''));
    const out = new Uint8Array(header.length + body.length);
    out.set(header);
    out.set(body, header.length);
    return out;
  }
  const encoded = words.map((w) => encoder.encode(w));
  const total = header.length + encoded.reduce((s, w) => s + w.length + 2 + 4 * dim, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  out.set(header);
  let at = header.length;
  for (let v = 0; v < words.length; v++) {
    out.set(encoded[v], at);
    at += encoded[v].length;
    out[at++] = 0x20;
    for (let k = 0; k < dim; k++, at += 4) view.setFloat32(at, vectors[v * dim + k], true);
    out[at++] = 0x0a;
  }
  return out;
}

function corrupt(where: string, message: string): WeftError {
  return new WeftError('SHAPE', `word2vec file: ${where}: ${message}`);
}

const MAX_HEADER_BYTES = 256;
const MAX_WORD_BYTES = 100_000;
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Parse a word2vec text or binary file; `binary` undefined detects the format. */
export function readWord2Vec(bytes: Uint8Array, binary?: boolean): WordVectors {
  return dropDuplicates(readWord2VecRecords(bytes, binary));
}

function dropDuplicates(file: WordVectors): WordVectors {
  const seen = new Set<string>();
  const keep: number[] = [];
  file.words.forEach((w, i) => {
    if (!seen.has(w)) {
      seen.add(w);
      keep.push(i);
    }
  });
  if (keep.length === file.words.length) return file;
  const { dim } = file;
  const vectors = new Float32Array(keep.length * dim);
  keep.forEach((i, n) => vectors.set(file.vectors.subarray(i * dim, (i + 1) * dim), n * dim));
  return { words: keep.map((i) => file.words[i]), vectors, dim };
}

function readWord2VecRecords(bytes: Uint8Array, binary?: boolean): WordVectors {
  if (!(bytes instanceof Uint8Array)) throw new WeftError('DTYPE', `fromWord2Vec: bytes: expected a Uint8Array of the file's bytes, got ${describe(bytes)}`);
  const newline = bytes.subarray(0, MAX_HEADER_BYTES).indexOf(0x0a);
  const headerText = new TextDecoder().decode(bytes.subarray(0, newline < 0 ? Math.min(bytes.length, 40) : newline));
  const header = headerText.trim().split(/\s+/);
  if (newline < 0 || header.length !== 2 || !header.every((t) => /^\d+$/.test(t))) {
    throw corrupt('line 1', `expected a header "<words> <dimensions>", got ${JSON.stringify(headerText)}`);
  }
  const count = Number(header[0]), dim = Number(header[1]);
  if (dim < 1) throw corrupt('line 1', `the vector size must be >= 1, got ${dim}`);
  if (count * dim > 2 ** 30) throw new WeftError('MEMORY', `word2vec file: ${count} x ${dim} floats exceed the 4 GiB limit of one buffer`);
  const start = newline + 1;
  const isBinary = binary ?? !looksLikeText(bytes, start, dim);
  return isBinary ? readBinary(bytes, start, count, dim) : readText(bytes, start, count, dim);
}

/** Does the first record after the header read as "word" + dim decimal numbers? */
function looksLikeText(bytes: Uint8Array, start: number, dim: number): boolean {
  let end = bytes.indexOf(0x0a, start);
  if (end < 0) end = bytes.length;
  const parts = new TextDecoder().decode(bytes.subarray(start, end)).trim().split(/\s+/);
  return parts.length === dim + 1 && parts.slice(1).every((p) => DECIMAL.test(p));
}

function readText(bytes: Uint8Array, start: number, count: number, dim: number): WordVectors {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(start));
  } catch {
    throw corrupt(`line ${firstBadUtf8Line(bytes, start)}`, 'invalid UTF-8');
  }
  const lines = text.split('\n');
  const words: string[] = [];
  const vectors = new Float32Array(count * dim);
  let n = 0;
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 2;
    const line = lines[i].trim();
    if (line === '') continue;
    if (n === count) throw corrupt(`line ${lineNo}`, `more vectors than the ${count} the header announces`);
    const parts = line.split(/\s+/);
    if (parts.length !== dim + 1) {
      throw corrupt(`line ${lineNo}`, `expected a word and ${dim} values, got ${parts.length - 1} values after ${JSON.stringify(parts[0])}`);
    }
    for (let k = 0; k < dim; k++) {
      const token = parts[k + 1];
      if (!DECIMAL.test(token)) throw corrupt(`line ${lineNo}`, `value ${k + 1} of ${JSON.stringify(parts[0])} is ${JSON.stringify(token)}, not a finite number`);
      const value = Math.fround(Number(token));
      // "1e39" is a finite decimal but infinite as a float32
      if (!Number.isFinite(value)) throw corrupt(`line ${lineNo}`, `value ${k + 1} of ${JSON.stringify(parts[0])} is ${token}, outside float32's range`);
      vectors[n * dim + k] = value;
    }
    words.push(parts[0]);
    n++;
  }
  if (n < count) throw corrupt(`line ${lines.length + 1}`, `truncated: the header announces ${count} vectors, the file has ${n}`);
  return { words, vectors, dim };
}

function firstBadUtf8Line(bytes: Uint8Array, start: number): number {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let line = 2;
  for (let at = start; at < bytes.length;) {
    let end = bytes.indexOf(0x0a, at);
    if (end < 0) end = bytes.length;
    try {
      decoder.decode(bytes.subarray(at, end));
    } catch {
      return line;
    }
    at = end + 1;
    line++;
  }
  return line;
}

function isSpaceByte(b: number): boolean {
  return b === 0x0a || b === 0x0d || b === 0x20 || b === 0x09;
}

function readBinary(bytes: Uint8Array, start: number, count: number, dim: number): WordVectors {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const words: string[] = [];
  const vectors = new Float32Array(count * dim);
  let at = start;
  for (let n = 0; n < count; n++) {
    // word2vec.c ends each vector with '\n', gensim does not: skip whitespace before a word
    while (at < bytes.length && isSpaceByte(bytes[at])) at++;
    const wordStart = at;
    const space = bytes.subarray(wordStart, wordStart + MAX_WORD_BYTES).indexOf(0x20);
    if (space < 0) {
      const why = wordStart + MAX_WORD_BYTES < bytes.length ? `no space within ${MAX_WORD_BYTES} bytes` : 'the file ends first';
      throw corrupt(`byte offset ${wordStart}`, `truncated or corrupt: expected word ${n + 1} of ${count} followed by a space (${why})`);
    }
    let word: string;
    try {
      word = decoder.decode(bytes.subarray(wordStart, wordStart + space));
    } catch {
      throw corrupt(`byte offset ${wordStart}`, `word ${n + 1} of ${count} is not valid UTF-8`);
    }
    at = wordStart + space + 1;
    if (at + 4 * dim > bytes.length) {
      throw corrupt(
        `byte offset ${at}`,
        `truncated: word ${n + 1} of ${count} (${JSON.stringify(word)}) needs ${4 * dim} bytes of vector, ${bytes.length - at} remain`,
      );
    }
    for (let k = 0; k < dim; k++, at += 4) {
      const value = view.getFloat32(at, true);
      if (!Number.isFinite(value)) {
        throw corrupt(`byte offset ${at}`, `value ${k + 1} of ${JSON.stringify(word)} is ${value} (corrupt, or not the binary format)`);
      }
      vectors[n * dim + k] = value;
    }
    words.push(word);
  }
  while (at < bytes.length && isSpaceByte(bytes[at])) at++;
  if (at < bytes.length) throw corrupt(`byte offset ${at}`, `data after the ${count} vectors the header announces`);
  return { words, vectors, dim };
}
