// safetensors, the project's own weight format: an 8-byte little-endian header length N, N bytes of JSON
// ({name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}}), then the raw
// little-endian data, whose tensors must tile the data section exactly (no gaps, no overlaps).
import { assertLittleEndianHost, decodeElements, ELEMENT_SIZE, encodeHalf, type StoredDType } from './dtypes.js';
import { elementCount, shapeText, type StoredTensors } from './stored-tensors.js';
import { quoteValue } from '../data/json-value.js';

/** The reference implementation's limit; a larger "header" means the file is something else. */
const MAX_HEADER_BYTES = 100_000_000;

/** Every element type the format defines; the reader converts the ones in ELEMENT_SIZE. */
const FORMAT_DTYPES = ['BOOL', 'U8', 'I8', 'F8_E5M2', 'F8_E4M3', 'I16', 'U16', 'F16', 'BF16', 'I32', 'U32', 'F32', 'F64', 'I64', 'U64'];

export class SafetensorsError extends Error {
  constructor(message: string) {
    super(`Not a valid safetensors file: ${message}`);
    this.name = 'SafetensorsError';
  }
}

export interface SafetensorsEntry {
  name: string;
  dtype: StoredDType;
  shape: number[];
  /** Byte range in the data section. */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  entries: SafetensorsEntry[];
  metadata: Record<string, string>;
  /** Where the data section starts in the file (8 + header length). */
  dataStart: number;
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** Parses and validates the header against the file's size; entries come back in data order. */
export function readSafetensorsHeader(bytes: Uint8Array): SafetensorsHeader {
  if (bytes.length < 8) throw new SafetensorsError(`the file has ${bytes.length} bytes, fewer than the 8-byte header length.`);
  const length = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (length < 2n || length > BigInt(Math.min(MAX_HEADER_BYTES, bytes.length - 8))) {
    throw new SafetensorsError(
      `the header length field says ${length} bytes, but the file has ${bytes.length - 8} bytes after it ` +
        `(and headers are limited to ${MAX_HEADER_BYTES} bytes). Is this file truncated or another format?`,
    );
  }
  const dataStart = 8 + Number(length);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, dataStart)));
  } catch (e) {
    throw new SafetensorsError(`the ${length}-byte header is not UTF-8 JSON (${(e as Error).message}).`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new SafetensorsError('the header is not a JSON object.');

  let metadata: Record<string, string> = {};
  const entries: SafetensorsEntry[] = [];
  for (const [name, info] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof info !== 'object' || info === null || Array.isArray(info) || !Object.values(info).every((v) => typeof v === 'string')) {
        throw new SafetensorsError('"__metadata__" must map strings to strings.');
      }
      metadata = info as Record<string, string>;
      continue;
    }
    const { dtype, shape, data_offsets: offsets } = (info ?? {}) as Record<string, unknown>;
    if (typeof dtype !== 'string' || !FORMAT_DTYPES.includes(dtype)) {
      throw new SafetensorsError(`tensor "${name}" has dtype ${quoteValue(dtype)}; the format defines ${FORMAT_DTYPES.join(', ')}.`);
    }
    if (!(dtype in ELEMENT_SIZE)) {
      throw new SafetensorsError(`tensor "${name}" is ${dtype}; this reader converts only ${Object.keys(ELEMENT_SIZE).join(', ')}.`);
    }
    if (!Array.isArray(shape) || !shape.every(isCount)) throw new SafetensorsError(`tensor "${name}" has shape ${quoteValue(shape)}; expected a list of integers ≥ 0.`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount) || offsets[0] > offsets[1]) {
      throw new SafetensorsError(`tensor "${name}" has data_offsets ${quoteValue(offsets)}; expected [begin, end] with 0 ≤ begin ≤ end.`);
    }
    const entry: SafetensorsEntry = { name, dtype: dtype as StoredDType, shape, begin: offsets[0], end: offsets[1] };
    const expected = elementCount(shape) * ELEMENT_SIZE[entry.dtype];
    if (entry.end - entry.begin !== expected) {
      throw new SafetensorsError(
        `tensor "${name}" (${dtype} ${shapeText(shape)}) needs ${expected} bytes but its data_offsets [${entry.begin}, ${entry.end}] span ${entry.end - entry.begin}.`,
      );
    }
    entries.push(entry);
  }

  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const [i, e] of entries.entries()) {
    if (e.begin !== cursor) {
      const before = i ? `tensor "${entries[i - 1].name}" ends at byte ${cursor}` : 'the data section starts at byte 0';
      throw new SafetensorsError(`${before} but tensor "${e.name}" starts at byte ${e.begin}: tensors must tile the data section without ${e.begin < cursor ? 'overlaps' : 'gaps'}.`);
    }
    cursor = e.end;
  }
  const dataBytes = bytes.length - dataStart;
  if (cursor !== dataBytes) {
    throw new SafetensorsError(
      cursor > dataBytes
        ? `the tensors need ${cursor} bytes of data but the file has ${dataBytes} after the header (truncated?).`
        : `the file has ${dataBytes - cursor} bytes after the last tensor's data (${dataBytes} bytes of data, tensors cover ${cursor}).`,
    );
  }
  return { entries, metadata, dataStart };
}

export interface ReadOptions {
  /** Always return owned data. By default F32 tensors at 4-byte-aligned addresses are views of `bytes`. */
  copy?: boolean;
}

/** Reads every tensor (floats as float32, I64 as BigInt64Array) in the file's data order. */
export function readSafetensors(bytes: Uint8Array, { copy = false }: ReadOptions = {}): { tensors: StoredTensors; metadata: Record<string, string> } {
  assertLittleEndianHost();
  const { entries, metadata, dataStart } = readSafetensorsHeader(bytes);
  const tensors: StoredTensors = new Map();
  for (const { name, dtype, shape, begin } of entries) {
    const data = decodeElements(bytes, dataStart + begin, elementCount(shape), dtype, copy);
    tensors.set(name, dtype === 'I64' ? { dtype, shape, data: data as BigInt64Array } : { dtype, shape, data: data as Float32Array });
  }
  return { tensors, metadata };
}

/** What the writer takes: row-major float32 or int64 data. */
export interface TensorData {
  shape: readonly number[];
  data: Float32Array | BigInt64Array;
}

export interface WriteOptions {
  /** Element type for floating-point tensors (int64 stays I64). Default F32. */
  floatDType?: 'F32' | 'F16';
  metadata?: Record<string, string>;
}

/**
 * Serialises tensors in the given order. The header is padded with spaces to a multiple of 8 bytes, as the
 * reference writer does, so F32 data written after I64/F32 tensors stays aligned for zero-copy reads.
 */
export function writeSafetensors(tensors: ReadonlyMap<string, TensorData>, { floatDType = 'F32', metadata }: WriteOptions = {}): Uint8Array {
  assertLittleEndianHost();
  const parts: string[] = [];
  if (metadata) parts.push(`"__metadata__":${JSON.stringify(metadata)}`);
  const payloads: Uint8Array[] = [];
  let offset = 0;
  for (const [name, { shape, data }] of tensors) {
    if (!name || name === '__metadata__') throw new Error(`writeSafetensors: "${name}" cannot name a tensor.`);
    if (data.length !== elementCount(shape)) throw new Error(`writeSafetensors: tensor "${name}" has ${data.length} values for shape ${shapeText(shape)}.`);
    const dtype = data instanceof BigInt64Array ? 'I64' : floatDType;
    const payload = dtype === 'F16' ? encodeHalf(data as Float32Array) : data;
    const raw = new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength);
    parts.push(`${JSON.stringify(name)}:${JSON.stringify({ dtype, shape, data_offsets: [offset, offset + raw.length] })}`);
    payloads.push(raw);
    offset += raw.length;
  }
  let header = new TextEncoder().encode(`{${parts.join(',')}}`);
  const padded = Math.ceil(header.length / 8) * 8;
  if (padded !== header.length) {
    const spaced = new Uint8Array(padded).fill(0x20);
    spaced.set(header);
    header = spaced;
  }
  const out = new Uint8Array(8 + header.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(header.length), true);
  out.set(header, 8);
  let at = 8 + header.length;
  for (const raw of payloads) {
    out.set(raw, at);
    at += raw.length;
  }
  return out;
}
