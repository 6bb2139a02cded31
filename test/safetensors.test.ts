import { describe, expect, test } from 'vitest';
import { decodeElements, encodeHalf, halfBits, halfOverflowCount } from '../src/io/dtypes.js';
import { readSafetensors, readSafetensorsHeader, writeSafetensors, type TensorData } from '../src/io/safetensors.js';

let seed = 12345;
/** Deterministic values spanning several magnitudes and both signs. */
function values(n: number): Float32Array {
  return Float32Array.from({ length: n }, () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return (seed / 2 ** 31 - 0.5) * 10 ** ((seed % 7) - 3);
  });
}

/** A file from a raw header object and data bytes, with an optional number of spaces after the JSON. */
function file(header: unknown, data: Uint8Array = new Uint8Array(0), pad = 0): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header) + ' '.repeat(pad));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

describe('safetensors round trip', () => {
  const tensors = new Map<string, TensorData>([
    ['conv.weight', { shape: [4, 3, 3, 3], data: values(108) }],
    ['conv.bias', { shape: [4], data: values(4) }],
    ['bn.num_batches_tracked', { shape: [], data: BigInt64Array.from([123456789012345n]) }],
    ['scale', { shape: [], data: Float32Array.from([0.125]) }],
    ['empty', { shape: [0, 5], data: new Float32Array(0) }],
    ['odd', { shape: [3], data: values(3) }],
  ]);

  test('F32: names, order, shapes, values and metadata survive; F32 is read in place', () => {
    const bytes = writeSafetensors(tensors, { metadata: { format: 'pt', note: 'é' } });
    const header = readSafetensorsHeader(bytes);
    expect(header.dataStart % 8).toBe(0);
    const { tensors: read, metadata } = readSafetensors(bytes);
    expect(metadata).toEqual({ format: 'pt', note: 'é' });
    expect([...read.keys()]).toEqual([...tensors.keys()]);
    for (const [name, t] of tensors) {
      const got = read.get(name)!;
      expect(got.shape).toEqual(t.shape);
      expect(got.dtype).toBe(t.data instanceof BigInt64Array ? 'I64' : 'F32');
      expect(got.data).toEqual(t.data);
      if (got.dtype === 'F32') expect(got.data.buffer).toBe(bytes.buffer);
    }
  });

  test('copy: true returns owned data', () => {
    const bytes = writeSafetensors(tensors);
    for (const t of readSafetensors(bytes, { copy: true }).tensors.values()) expect(t.data.buffer).not.toBe(bytes.buffer);
  });

  test('F32 data at an unaligned address is copied, with the same values', () => {
    // A 3-space header pad puts the data section at an odd offset; a shifted view moves the file in memory too.
    const data = values(6);
    const raw = file({ w: { dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] } }, bytesOf(data), 3);
    for (const shift of [0, 1, 2, 3]) {
      const bytes = new Uint8Array(raw.length + shift).subarray(shift);
      bytes.set(raw);
      const w = readSafetensors(bytes).tensors.get('w')!;
      expect(w.data).toEqual(data);
      expect(w.data.buffer === bytes.buffer).toBe((bytes.byteOffset + readSafetensorsHeader(bytes).dataStart) % 4 === 0);
    }
  });

  test('F16: written with round-to-nearest-even, read back exactly', () => {
    const exact = Float32Array.from([0, -0, 1, -2.5, 65504, -65504, 2 ** -24, 2 ** -14, 0.333251953125, 1025]);
    const bytes = writeSafetensors(new Map([['h', { shape: [10], data: exact }]]), { floatDType: 'F16' });
    const h = readSafetensors(bytes).tensors.get('h')!;
    expect(h.dtype).toBe('F16');
    expect([...h.data]).toEqual([...exact]);
    expect(bytes.length).toBe(readSafetensorsHeader(bytes).dataStart + 20);
  });

  test('BF16 and F64 are read as float32; I64 ints keep every bit', () => {
    const bf16 = Uint16Array.from([0x3fc0, 0xc049, 0x0000, 0x8000, 0x7f80]); // 1.5, -3.140625, 0, -0, +inf
    const f64 = Float64Array.from([0.1, -1e300, 3]);
    const i64 = BigInt64Array.from([-(2n ** 63n), 2n ** 63n - 1n]);
    const data = new Uint8Array(10 + 24 + 16);
    data.set(bytesOf(bf16), 0);
    data.set(bytesOf(f64), 10);
    data.set(bytesOf(i64), 34);
    const { tensors } = readSafetensors(
      file(
        {
          b: { dtype: 'BF16', shape: [5], data_offsets: [0, 10] },
          d: { dtype: 'F64', shape: [3], data_offsets: [10, 34] },
          i: { dtype: 'I64', shape: [2], data_offsets: [34, 50] },
        },
        data,
      ),
    );
    expect([...tensors.get('b')!.data]).toEqual([1.5, -3.140625, 0, -0, Infinity]);
    expect([...tensors.get('d')!.data]).toEqual([Math.fround(0.1), -Infinity, 3]);
    expect(tensors.get('i')!.data).toEqual(i64);
  });

  test('the writer refuses data that does not fit its shape', () => {
    expect(() => writeSafetensors(new Map([['w', { shape: [2, 2], data: new Float32Array(3) }]]))).toThrow(/3 values for shape \[2, 2\]/);
    expect(() => writeSafetensors(new Map([['__metadata__', { shape: [], data: new Float32Array(1) }]]))).toThrow(/cannot name a tensor/);
  });
});

describe('half precision conversion', () => {
  const halfValue = (h: number) => decodeElements(bytesOf(Uint16Array.of(h)), 0, 1, 'F16')[0] as number;

  test('every finite half value converts to float32 and back to the same bits', () => {
    for (let h = 0; h < 65536; h++) {
      const v = halfValue(h);
      if (Number.isNaN(v)) expect((h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0).toBe(true);
      else expect(halfBits(v), `0x${h.toString(16)}`).toBe(h);
    }
  });

  test('rounding is to the nearest half, ties to even, matching a brute-force search', () => {
    const finite = Float32Array.from({ length: 63488 }, (_, i) => halfValue(i < 31744 ? i : i - 31744 + 0x8000));
    const probe = Float32Array.from(values(2000).map((v) => v * 37));
    // Exact midpoints between neighbouring halves (ties) and values beyond the largest half.
    for (let h = 0x3c00; h < 0x3c10; h++) probe.set([(halfValue(h) + halfValue(h + 1)) / 2], 0);
    for (const x of [...probe, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 2 ** -25, 3 * 2 ** -26, 65519, 65520, -70000, 1e-8]) {
      const got = halfValue(halfBits(x));
      if (Math.abs(x) >= 65520) {
        expect(got).toBe(Math.sign(x) * Infinity);
        continue;
      }
      let best = Infinity;
      for (const v of finite) best = Math.min(best, Math.abs(v - x));
      expect(Math.abs(got - x), `${x}`).toBe(best);
    }
    expect(halfValue(halfBits(1 + 2 ** -11))).toBe(1); // tie → even mantissa
    expect(halfValue(halfBits(1 + 3 * 2 ** -11))).toBe(1 + 2 ** -9);
    expect(halfValue(halfBits(2 ** -25))).toBe(0); // tie between 0 and the smallest subnormal
    expect(halfValue(halfBits(3 * 2 ** -26))).toBe(2 ** -24);
  });

  test('infinities, NaN and the overflow count', () => {
    expect(Array.from(encodeHalf(Float32Array.from([Infinity, -Infinity])))).toEqual([0x7c00, 0xfc00]);
    expect(halfValue(halfBits(NaN))).toBeNaN();
    expect(halfOverflowCount(Float32Array.from([65504, 65519.99, 65520, -1e6, Infinity, NaN]))).toBe(2);
  });
});

describe('malformed safetensors files are refused with the reason', () => {
  const w = (offsets: number[], dtype = 'F32', shape = [2]) => ({ dtype, shape, data_offsets: offsets });
  const cases: [string, Uint8Array, RegExp][] = [
    ['shorter than the length field', new Uint8Array(5), /5 bytes, fewer than the 8-byte header length/],
    ['header length beyond the file', file({}).subarray(0, 9), /header length field says 2 bytes, but the file has 1/],
    ['header length absurd', Uint8Array.from([255, 255, 255, 255, 255, 255, 255, 255, 0x7b, 0x7d]), /header length field says 18446744073709551615/],
    ['header not JSON', file('x').map((b, i) => (i === 8 ? 0x7b : b)), /header is not UTF-8 JSON/],
    ['header an array', file([1, 2]), /not a JSON object/],
    ['unknown dtype', file({ w: w([0, 8], 'F99') }, new Uint8Array(8)), /"w" has dtype "F99"; the format defines BOOL/],
    ['unconverted dtype', file({ w: w([0, 8], 'I32') }, new Uint8Array(8)), /"w" is I32; this reader converts only F64, F32, F16, BF16, I64/],
    ['negative dimension', file({ w: w([0, 8], 'F32', [-2]) }, new Uint8Array(8)), /shape \[-2\]; expected a list of integers ≥ 0/],
    ['offsets reversed', file({ w: w([8, 0]) }, new Uint8Array(8)), /data_offsets \[8,0\]; expected \[begin, end\]/],
    ['size disagrees with shape', file({ w: w([0, 12]) }, new Uint8Array(12)), /needs 8 bytes but its data_offsets \[0, 12\] span 12/],
    ['gap', file({ a: w([0, 8]), b: w([12, 20]) }, new Uint8Array(20)), /tensor "a" ends at byte 8 but tensor "b" starts at byte 12: .* without gaps/],
    ['overlap', file({ a: w([0, 8]), b: w([4, 12]) }, new Uint8Array(12)), /tensor "a" ends at byte 8 but tensor "b" starts at byte 4: .* without overlaps/],
    ['first tensor not at 0', file({ a: w([4, 12]) }, new Uint8Array(12)), /the data section starts at byte 0 but tensor "a" starts at byte 4/],
    ['truncated data', file({ a: w([0, 8]) }, new Uint8Array(5)), /need 8 bytes of data but the file has 5 after the header \(truncated\?\)/],
    ['trailing bytes', file({ a: w([0, 8]) }, new Uint8Array(10)), /2 bytes after the last tensor's data/],
    ['metadata not strings', file({ __metadata__: { epoch: 3 } }), /"__metadata__" must map strings to strings/],
  ];
  for (const [what, bytes, message] of cases) {
    test(what, () => expect(() => readSafetensors(bytes)).toThrow(message));
  }

  test('an empty file of tensors is valid', () => {
    expect(readSafetensors(file({})).tensors.size).toBe(0);
  });
});
