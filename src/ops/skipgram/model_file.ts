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

/** Where an unfinished training run stands (model.unfinishedRun): at the end of epoch `epochsDone` of `epochs`. */
export interface TrainingRun {
  /** Epochs of the run (train's epochs option, or the model's). */
  epochs: number;
  /** Epochs trained so far, 1 to epochs - 1. */
  epochsDone: number;
  /** Corpus words per epoch of the run's learning-rate schedule (train's totalWords, or the vocabulary corpus's). */
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
const littleEndian = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

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
  for (const a of arrays) {
    if (littleEndian) out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), at);
    else for (let i = 0; i < a.length; i++) view.setFloat32(at + 4 * i, a[i], true);
    at += a.byteLength;
  }
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
      fail('this is a word2vec vectors file, not a weft model file (read it with weft.skipGram.fromWord2Vec; it holds no training state)');
    }
    if (bytes.length < MAGIC.length && MAGIC.subarray(0, bytes.length).every((b, i) => bytes[i] === b)) {
      fail(`truncated: ${bytes.length} bytes, shorter than the ${PREAMBLE_BYTES}-byte preamble`);
    }
    fail('not a weft model file (its first 8 bytes are not the magic 0x89 "WEFTW2V")');
  }
  if (bytes.length < PREAMBLE_BYTES) fail(`truncated: ${bytes.length} bytes, shorter than the ${PREAMBLE_BYTES}-byte preamble`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== MODEL_FILE_VERSION) {
    throw new WeftError('UNSUPPORTED', `load: model file format version ${version}; this weft reads version ${MODEL_FILE_VERSION}`);
  }
  const headerBytes = view.getUint32(12, true);
  if (headerBytes % 4 !== 0 || headerBytes > MAX_HEADER_BYTES) fail(`the header length ${headerBytes} is not a multiple of 4 below 2^30`);
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
      fail(`the ${name} array is [${rows}, ${cols}], the vocabulary and options need [${wantRows}, ${wantCols}]`);
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
    if (littleEndian) new Uint8Array(data.buffer).set(bytes.subarray(at, at + data.byteLength));
    else for (let i = 0; i < data.length; i++) data[i] = view.getFloat32(at + 4 * i, true);
    const bad = firstNonFinite(data);
    if (bad >= 0) {
      throw new WeftError('RANGE', `load: the ${name} array holds ${data[bad]} at row ${Math.floor(bad / cols)}, column ${bad % cols} (byte ${at + 4 * bad}); weights must be finite`);
    }
    at += data.byteLength;
    return data;
  };
  return { header, input: read('input'), output: read('output'), tree: read('tree') };
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

function checkHeader(value: unknown): ModelFileHeader {
  if (!isRecord(value)) fail('the header is not a JSON object');
  const need = (obj: Record<string, unknown>, key: string, where: string): unknown => {
    if (!Object.hasOwn(obj, key)) fail(`the header has no "${where}${key}"`);
    return obj[key];
  };
  const record = (obj: Record<string, unknown>, key: string, where = ''): Record<string, unknown> => {
    const v = need(obj, key, where);
    if (!isRecord(v)) fail(`the header's "${where}${key}" is not an object`);
    return v;
  };
  const count = (obj: Record<string, unknown>, key: string, where: string): number => {
    const v = need(obj, key, where);
    if (!isCount(v)) fail(`the header's "${where}${key}" is ${describe(v)}, expected an integer >= 0`);
    return v;
  };
  const options = record(value, 'options');
  const vocab = record(value, 'vocab');
  const words = need(vocab, 'words', 'vocab.'), counts = need(vocab, 'counts', 'vocab.');
  if (!Array.isArray(words) || !words.every((w) => typeof w === 'string')) fail('the header\'s "vocab.words" is not a list of strings');
  if (!Array.isArray(counts) || !counts.every(isCount)) fail('the header\'s "vocab.counts" is not a list of integers >= 0');
  if (words.length !== counts.length) fail(`the vocabulary has ${words.length} words and ${counts.length} counts`);
  if (words.length === 0) fail('the vocabulary has no words');
  for (let i = 1; i < counts.length; i++) {
    if (counts[i] > counts[i - 1]) fail(`the vocabulary's counts are not in descending order (word ${i}, "${words[i]}", counts ${counts[i]} after ${counts[i - 1]})`);
  }
  const seen = new Set<string>();
  for (const w of words as string[]) {
    if (w === '' || /\s/.test(w)) fail(`the vocabulary's word ${JSON.stringify(w)} is empty or contains whitespace`);
    if (seen.has(w)) fail(`the vocabulary lists "${w}" twice`);
    seen.add(w);
  }
  const trained = record(value, 'trained');
  const run = need(value, 'run', '');
  if (run !== null && !isRecord(run)) fail('the header\'s "run" is neither null nor an object');
  const rngState = need(value, 'rngState', '');
  if (!Array.isArray(rngState) || rngState.length !== 4 || !rngState.every((x) => isCount(x) && x <= 0xffffffff) || rngState.every((x) => x === 0)) {
    fail('the header\'s "rngState" is not 4 u32 words, not all zero');
  }
  const arrays = record(value, 'arrays');
  const shape = (key: string): [number, number] => {
    const v = need(arrays, key, 'arrays.');
    if (!Array.isArray(v) || v.length !== 2 || !v.every(isCount)) fail(`the header's "arrays.${key}" is not a shape [rows, columns]`);
    return v as [number, number];
  };
  const header: ModelFileHeader = {
    options,
    vocab: { words: words as string[], counts: counts as number[], corpusWords: count(vocab, 'corpusWords', 'vocab.'), sentences: count(vocab, 'sentences', 'vocab.') },
    trained: { epochs: count(trained, 'epochs', 'trained.'), words: count(trained, 'words', 'trained.') },
    run: null,
    rngState: rngState as number[],
    arrays: { input: shape('input'), output: shape('output'), tree: shape('tree') },
  };
  if (run !== null) {
    const position = { epochs: count(run, 'epochs', 'run.'), epochsDone: count(run, 'epochsDone', 'run.'), totalWords: count(run, 'totalWords', 'run.') };
    if (position.epochs < 1 || position.epochsDone >= position.epochs || position.totalWords < 1) {
      fail(`the header's "run" (${position.epochsDone} of ${position.epochs} epochs done, ${position.totalWords} words per epoch) is not an unfinished run`);
    }
    header.run = position;
  }
  return header;
}
