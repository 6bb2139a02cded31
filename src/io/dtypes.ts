// Element types of stored tensors and their conversion from raw little-endian bytes. Floating-point data always
// arrives as Float32Array, int64 as BigInt64Array; F32 and I64 are views of the file's bytes when aligned. No fs here: checkpoint readers work on a Uint8Array in Node and in the browser alike.

/** Element types the checkpoint readers convert (safetensors names; PyTorch's are mapped onto these). */
export type StoredDType = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64';
export type FloatDType = Exclude<StoredDType, 'I64'>;

export const ELEMENT_SIZE: Readonly<Record<StoredDType, number>> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8 };

/** Checkpoints are little-endian; typed-array views read them unconverted only on a little-endian host. */
export function assertLittleEndianHost(): void {
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
    throw new Error('This platform is big-endian; checkpoint files are little-endian and cannot be read here.');
  }
}

/** A typed view of `count` elements at `bytes[start…]`, zero-copy when aligned (and `copy` is false), else a copy. */
function view<T>(
  Kind: { new (buffer: ArrayBufferLike, byteOffset: number, length: number): T; BYTES_PER_ELEMENT: number },
  bytes: Uint8Array,
  start: number,
  count: number,
  copy: boolean,
): T {
  const size = Kind.BYTES_PER_ELEMENT;
  const at = bytes.byteOffset + start;
  if (!copy && at % size === 0) return new Kind(bytes.buffer, at, count);
  const owned = new Uint8Array(count * size);
  owned.set(bytes.subarray(start, start + count * size));
  return new Kind(owned.buffer, 0, count);
}

let halfTable: Float32Array | undefined;

/** All 65,536 half-precision values, built on first use. */
function halfValues(): Float32Array {
  if (halfTable) return halfTable;
  halfTable = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exponent = (h >> 10) & 0x1f;
    const mantissa = h & 0x3ff;
    halfTable[h] =
      exponent === 0
        ? sign * mantissa * 2 ** -24
        : exponent === 31
          ? mantissa
            ? NaN
            : sign * Infinity
          : sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
  }
  return halfTable;
}

/**
 * `count` elements of `dtype` at `bytes[start…]` as host data. F32 (I64) is a view into `bytes` when its address
 * is 4- (8-) byte aligned and `copy` is false, aliasing the file's buffer; every other case returns owned data.
 */
export function decodeElements(bytes: Uint8Array, start: number, count: number, dtype: StoredDType, copy = false): Float32Array | BigInt64Array {
  if (start < 0 || start + count * ELEMENT_SIZE[dtype] > bytes.length) {
    throw new Error(`${dtype} data at byte ${start} with ${count} elements runs past the end of its ${bytes.length}-byte buffer.`);
  }
  switch (dtype) {
    case 'F32':
      return view(Float32Array, bytes, start, count, copy);
    case 'I64':
      return view(BigInt64Array, bytes, start, count, copy);
    case 'F64':
      return Float32Array.from(view(Float64Array, bytes, start, count, false));
    case 'F16': {
      const bits = view(Uint16Array, bytes, start, count, false);
      const table = halfValues();
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = table[bits[i]];
      return out;
    }
    case 'BF16': {
      // bfloat16 is the upper half of a float32.
      const bits = view(Uint16Array, bytes, start, count, false);
      const out = new Uint32Array(count);
      for (let i = 0; i < count; i++) out[i] = bits[i] << 16;
      return new Float32Array(out.buffer);
    }
  }
}

/** Smallest magnitude that rounds to infinity in half precision (65504 is the largest finite half). */
const HALF_OVERFLOW = 65520;

const scratch = new Float32Array(1);
const scratchBits = new Uint32Array(scratch.buffer);

/** float32 → IEEE half bits, round to nearest even; overflow gives ±∞, NaN stays NaN. */
export function halfBits(value: number): number {
  scratch[0] = value;
  const bits = scratchBits[0];
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 | (mantissa >>> 13) : 0);
  const e = exponent - 112; // re-biased for half (127 − 15)
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal half: value = m · 2^-24 with m = (1.mantissa · 2^23) >> (14 − e).
    if (e < -10) return sign;
    const full = mantissa | 0x800000;
    const shift = 14 - e;
    const rest = full & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    let m = full >>> shift;
    if (rest > halfway || (rest === halfway && m & 1)) m++;
    return sign | m;
  }
  let h = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  // A carry out of the mantissa steps the exponent, up to ∞ for values ≥ 65520: exactly IEEE rounding.
  if (rest > 0x1000 || (rest === 0x1000 && h & 1)) h++;
  return sign | h;
}

/** float32 data → half bits. */
export function encodeHalf(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = halfBits(values[i]);
  return out;
}

/** How many finite values become ±∞ when stored as half. */
export function halfOverflowCount(values: Float32Array): number {
  let n = 0;
  for (const v of values) if (Math.abs(v) >= HALF_OVERFLOW && Number.isFinite(v)) n++;
  return n;
}
