// weft's model file (model.save(), weft.skipGram.load(bytes)): the whole training state of
// a skip-gram / CBOW model, so training can continue where it stopped. Not gensim's
// pickle and not a word2vec vectors file. Layout (little-endian throughout):
//
//   offset 0   magic, 8 bytes: 0x89 "WEFTW2V" (a high first byte: never a text file)
//   offset 8   u32 format version (MODEL_FILE_VERSION)
//   offset 12  u32 H: bytes of the header (a multiple of 4)
//   offset 16  header: UTF-8 JSON (ModelFileHeader), padded with spaces to H bytes
//   16 + H     f32 arrays, row-major, one after another in this order:
//              input [V, dim] (syn0), output [O, dim] (syn1neg, or the softmax losses'
//              output rows; O = 0 with hierarchical softmax alone), tree [T, dim] (the
//              Huffman tree's inner nodes with hs, T = V - 1; else 0)
//   the file ends right after the last array.
//
// The header's `arrays` gives the three shapes; the reader checks them against the
// vocabulary and options, and the file's length against them, before it allocates
// anything, then checks that every weight is finite.

import { WeftError, describe } from '../../errors.js';
import { allocF32, firstNonFinite } from '../../tensor.js';

/** The version this weft writes and reads; another one is UNSUPPORTED. */
export const MODEL_FILE_VERSION = 1;
const MAGIC = Uint8Array.of(0x89, 0x57, 0x45, 0x46, 0x54, 0x57, 0x32, 0x56); // 0x89 "WEFTW2V"
const PREAMBLE_BYTES = 16;
/** A header larger than this is not a header (1 GiB: a vocabulary of ~50M words). */
const MAX_HEADER_BYTES = 1 << 30;

/** An unfinished training run (model.unfinishedRun), stopped at the end of epoch `epochsDone`. */
export interface TrainingRun {
  /** Epochs of the run. */
  epochs: number;
  /** Epochs done, 1 to epochs - 1. */
  epochsDone: number;
  /** Corpus words per epoch of its learning-rate schedule. */
  totalWords: number;
}

/** The JSON header (options as SkipGramModel resolves them, null for the ones left unset). */
export interface ModelFileHeader {
  options: Record<string, unknown>;
  vocab: { words: string[]; counts: number[]; corpusWords: number; sentences: number };
  /** Over the model's life: epochs trained and corpus words read by them. */
  trained: { epochs: number; words: number };
  /** null: no unfinished run (train() starts a new one). */
  run: TrainingRun | null;
  /** xoshiro128** state the next batch draws from. */
  rngState: number[];
  arrays: { input: [number, number]; output: [number, number]; tree: [number, number] };
}

export interface ModelFile {
  header: ModelFileHeader;
  input: Float32Array;
  output: Float32Array;
  tree: Float32Array;
}

const encoder = new TextEncoder();

export function writeModelFile({ header, input, output, tree }: ModelFile): Uint8Array {
  const json = encoder.encode(JSON.stringify(header));
  const headerBytes = (json.length + 3) & ~3;
  const arrays = [input, output, tree];
  const total = PREAMBLE_BYTES + headerBytes + 4 * arrays.reduce((sum, a) => sum + a.length, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  out.set(MAGIC);
  view.setUint32(8, MODEL_FILE_VERSION, true);
  view.setUint32(12, headerBytes, true);
  out.fill(0x20, PREAMBLE_BYTES, PREAMBLE_BYTES + headerBytes);
  out.set(json, PREAMBLE_BYTES);
  let at = PREAMBLE_BYTES + headerBytes;
  // DataView: little-endian on any host (~0.1 s for 14M floats)
  for (const a of arrays) for (let i = 0; i < a.length; i++, at += 4) view.setFloat32(at, a[i], true);
  return out;
}

function fail(message: string): never {
  throw new WeftError('SHAPE', `load: ${message}`);
}

/** Does the file start like a word2vec vectors file ("<V> <dim>" then a newline)? */
function looksLikeWord2Vec(bytes: Uint8Array): boolean {
  const head = new TextDecoder('latin1').decode(bytes.subarray(0, 64));
  return /^\s*\d+\s+\d+\s*\r?\n/.test(head);
}

/**
 * A model file's header and arrays; the arrays' shapes are checked against the header's
 * vocabulary and the file's length, the rest of the header only for its types (the model
 * checks its options and sizes). SHAPE for a truncated or malformed file, UNSUPPORTED for
 * another format version, RANGE for a non-finite weight, DTYPE when bytes is not a Uint8Array.
 */
export function readModelFile(bytes: unknown, expectedArrays: (header: ModelFileHeader) => ModelFileHeader['arrays']): ModelFile {
  if (!(bytes instanceof Uint8Array)) throw new WeftError('DTYPE', `load: expected the file's bytes (a Uint8Array), got ${describe(bytes)}`);
  const magicOk = bytes.length >= MAGIC.length && MAGIC.every((b, i) => bytes[i] === b);
  if (!magicOk) {
    if (looksLikeWord2Vec(bytes)) {
      fail('a word2vec vectors file, not a weft model file (read it with fromWord2Vec)');
    }
    if (bytes.length >= MAGIC.length || bytes.some((b, i) => b !== MAGIC[i])) fail('not a weft model file (bad magic)');
  }
  if (bytes.length < PREAMBLE_BYTES) fail(`truncated: ${bytes.length} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== MODEL_FILE_VERSION) {
    throw new WeftError('UNSUPPORTED', `load: model file format version ${version}; this weft reads version ${MODEL_FILE_VERSION}`);
  }
  const headerBytes = view.getUint32(12, true);
  if (headerBytes % 4 !== 0 || headerBytes > MAX_HEADER_BYTES) fail(`bad header length ${headerBytes}`);
  if (PREAMBLE_BYTES + headerBytes > bytes.length) {
    fail(`truncated: the header needs ${PREAMBLE_BYTES + headerBytes} bytes, the file has ${bytes.length}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(PREAMBLE_BYTES, PREAMBLE_BYTES + headerBytes)));
  } catch (err) {
    fail(`the header is not UTF-8 JSON (${(err as Error).message})`);
  }
  const header = checkHeader(parsed);
  const arrays = expectedArrays(header);
  for (const name of ['input', 'output', 'tree'] as const) {
    const [rows, cols] = header.arrays[name], [wantRows, wantCols] = arrays[name];
    if (rows !== wantRows || cols !== wantCols) {
      fail(`the ${name} array is [${rows}, ${cols}], expected [${wantRows}, ${wantCols}]`);
    }
  }
  const floats = arrays.input[0] * arrays.input[1] + arrays.output[0] * arrays.output[1] + arrays.tree[0] * arrays.tree[1];
  const expected = PREAMBLE_BYTES + headerBytes + 4 * floats;
  if (bytes.length < expected) fail(`truncated: the header and arrays need ${expected} bytes, the file has ${bytes.length}`);
  if (bytes.length > expected) fail(`${bytes.length - expected} bytes after the arrays' end at byte ${expected}`);
  let at = PREAMBLE_BYTES + headerBytes;
  const read = (name: 'input' | 'output' | 'tree') => {
    const [rows, cols] = arrays[name];
    const data = allocF32(`load: the ${name} array`, rows * cols);
    for (let i = 0; i < data.length; i++) data[i] = view.getFloat32(at + 4 * i, true);
    const bad = firstNonFinite(data);
    if (bad >= 0) {
      throw new WeftError('RANGE', `load: the ${name} array holds ${data[bad]} at row ${Math.floor(bad / cols)}, column ${bad % cols}`);
    }
    at += data.byteLength;
    return data;
  };
  return { header, input: read('input'), output: read('output'), tree: read('tree') };
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** What each header field must be: a check and its description for the error. */
const KINDS: Record<string, [(v: unknown) => boolean, string]> = {
  object: [isRecord, 'an object'],
  count: [isCount, 'an integer >= 0'],
  words: [(v) => Array.isArray(v) && v.every((w) => typeof w === 'string' && w !== '' && !/\s/.test(w)), 'a list of words without whitespace'],
  counts: [(v) => Array.isArray(v) && v.every(isCount), 'a list of integers >= 0'],
  rng: [(v) => Array.isArray(v) && v.length === 4 && v.every((x) => isCount(x) && x <= 0xffffffff) && v.some((x) => x !== 0), '4 u32 words, not all zero'],
  shape: [(v) => Array.isArray(v) && v.length === 2 && v.every(isCount), 'a shape [rows, columns]'],
  run: [(v) => v === null || isRecord(v), 'null or an object'],
};

const FIELDS: [string, string][] = [
  ['options', 'object'], ['vocab.words', 'words'], ['vocab.counts', 'counts'], ['vocab.corpusWords', 'count'], ['vocab.sentences', 'count'],
  ['trained.epochs', 'count'], ['trained.words', 'count'], ['run', 'run'], ['rngState', 'rng'],
  ['arrays.input', 'shape'], ['arrays.output', 'shape'], ['arrays.tree', 'shape'],
];
const RUN_FIELDS: [string, string][] = [['run.epochs', 'count'], ['run.epochsDone', 'count'], ['run.totalWords', 'count']];

/** The value at a dotted path, each field checked as KINDS says. */
function checkFields(root: unknown, fields: [string, string][]): void {
  for (const [path, kind] of fields) {
    let value = root;
    for (const key of path.split('.')) {
      if (!isRecord(value) || !Object.hasOwn(value, key)) fail(`the header has no "${path}"`);
      value = value[key];
    }
    if (!KINDS[kind][0](value)) fail(`the header's "${path}" is ${describe(value)}, expected ${KINDS[kind][1]}`);
  }
}

function checkHeader(value: unknown): ModelFileHeader {
  if (!isRecord(value)) fail('the header is not a JSON object');
  checkFields(value, FIELDS);
  const header = value as unknown as ModelFileHeader;
  const { words, counts } = header.vocab;
  if (words.length !== counts.length) fail(`the vocabulary has ${words.length} words and ${counts.length} counts`);
  if (words.length === 0) fail('the vocabulary has no words');
  if (new Set(words).size !== words.length) fail('the vocabulary lists a word twice');
  const unsorted = counts.findIndex((c, i) => i > 0 && c > counts[i - 1]);
  if (unsorted > 0) fail(`the vocabulary's counts are not in descending order (word ${unsorted}, "${words[unsorted]}")`);
  const { run } = header;
  if (run !== null) {
    checkFields(value, RUN_FIELDS);
    if (run.epochsDone < 1 || run.epochsDone >= run.epochs || run.totalWords < 1) {
      fail(`the header's "run" (${run.epochsDone} of ${run.epochs} epochs done) is not an unfinished run`);
    }
  }
  return header;
}
