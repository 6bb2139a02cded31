// Crafted weight files end in one clear error, in bounded time and memory (issue 15): each fixture is built here,
// byte by byte, the way an attacker would edit a real checkpoint.
import { strToU8, zipSync } from 'fflate';
import { describe, expect, test } from 'vitest';
import { loadColorModel, ModelError } from '../src/colorize/model.js';
import { PROJECT_GENERATOR_FORMAT } from '../src/nets/architectures.js';
import { writeSafetensors } from '../src/io/safetensors.js';
import { readTorchCheckpoint } from '../src/io/torch.js';

/** A protocol-2 pickle from opcodes and arguments. */
class Pickle {
  private readonly bytes: number[] = [0x80, 0x02];
  op(...codes: number[]): this {
    this.bytes.push(...codes);
    return this;
  }
  str(s: string): this {
    const b = strToU8(s);
    return this.op(0x8c, b.length, ...b); // SHORT_BINUNICODE
  }
  int(n: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setInt32(0, n, true);
    return this.op(0x4a, ...b); // BININT
  }
  global(module: string, name: string): this {
    return this.op(0x63, ...strToU8(`${module}\n${name}\n`));
  }
  tuple(...items: ((p: this) => void)[]): this {
    this.op(0x28); // MARK
    for (const item of items) item(this);
    return this.op(0x74); // TUPLE
  }
  /** torch._utils._rebuild_tensor_v2(storage `key` of `numel` floats, offset, size, stride). */
  tensor(key: string, numel: number, offset: number, size: number[], stride: number[]): this {
    this.global('torch._utils', '_rebuild_tensor_v2');
    this.tuple(
      (p) => p.tuple((q) => q.str('storage'), (q) => q.global('torch', 'FloatStorage'), (q) => q.str(key), (q) => q.str('cpu'), (q) => q.int(numel)).op(0x51), // BINPERSID
      (p) => p.int(offset),
      (p) => p.tuple(...size.map((n) => (q: Pickle) => q.int(n))),
      (p) => p.tuple(...stride.map((n) => (q: Pickle) => q.int(n))),
    );
    return this.op(0x52); // REDUCE
  }
  done(): Uint8Array {
    return Uint8Array.from([...this.bytes, 0x2e]); // STOP
  }
}

const checkpoint = (pickle: Uint8Array, storages: Record<string, Uint8Array> = {}, level: 0 | 9 = 0) =>
  zipSync({ 'archive/data.pkl': pickle, ...Object.fromEntries(Object.entries(storages).map(([k, v]) => [`archive/data/${k}`, v])) }, { level });

/** A state dict {"w": tensor over storage "0"} with the given size and stride. */
const stateDict = (numel: number, size: number[], stride: number[]) =>
  new Pickle()
    .op(0x7d) // EMPTY_DICT
    .str('w')
    .tensor('0', numel, 0, size, stride)
    .op(0x73) // SETITEM
    .done();

const floats = (n: number) => new Uint8Array(new Float32Array(n).fill(1).buffer);

/** Overwrites a 32-bit field of `name`'s central-directory record (20: compressed size, 24: size, 16: CRC-32). */
function patchCentral(zip: Uint8Array, name: string, field: number, value: number): Uint8Array {
  const out = zip.slice();
  const v = new DataView(out.buffer);
  for (let p = 0; p + 46 < out.length; p++) {
    if (v.getUint32(p, true) !== 0x02014b50) continue;
    const nameLength = v.getUint16(p + 28, true);
    if (new TextDecoder().decode(out.subarray(p + 46, p + 46 + nameLength)) === name) {
      v.setUint32(p + field, value >>> 0, true);
      return out;
    }
  }
  throw new Error(`no central record for ${name}`);
}

describe('crafted PyTorch checkpoints', () => {
  test('a dict that holds itself under many keys: the state-dict search ends at once', () => {
    // d = {}; d["k0"] = d; …; d["k39"] = d — without a visited set, 40⁴ paths are walked.
    const p = new Pickle().op(0x7d, 0x71, 0, 0x28); // EMPTY_DICT, BINPUT 0, MARK
    for (let i = 0; i < 40; i++) p.str(`k${i}`).op(0x68, 0); // key, BINGET 0
    const bytes = checkpoint(p.op(0x75).done()); // SETITEMS
    const start = performance.now();
    expect(() => readTorchCheckpoint(bytes)).toThrow(/holds no state dict/);
    expect(performance.now() - start).toBeLessThan(1000);
  });

  test('a list of half a million items appended at once is data, not a stack overflow', () => {
    const p = new Pickle().op(0x5d, 0x28); // EMPTY_LIST, MARK
    for (let i = 0; i < 500_000; i++) p.op(0x4e); // NONE
    expect(() => readTorchCheckpoint(checkpoint(p.op(0x65).done()))).toThrow(/holds no state dict \(a dict of tensors\): its top level is a list/); // APPENDS
  });

  test('a 200 KB number is refused at once (building it took minutes)', () => {
    const n = 200_000;
    const pickle = new Uint8Array(2 + 5 + n + 1);
    pickle.set([0x80, 0x02, 0x8b]); // PROTO 2, LONG4
    new DataView(pickle.buffer).setUint32(3, n, true);
    pickle.fill(0x7f, 7, 7 + n);
    pickle[7 + n] = 0x2e; // STOP
    const start = performance.now();
    expect(() => readTorchCheckpoint(checkpoint(pickle))).toThrow(/a number of 200000 bytes; no state dict holds one.*opcode LONG4/);
    expect(performance.now() - start).toBeLessThan(1000);
  });

  test('a stride-0 tensor over one float cannot ask for a gigabyte', () => {
    const bytes = checkpoint(stateDict(1, [2 ** 28], [0]), { '0': floats(1) });
    expect(bytes.length).toBeLessThan(1000);
    expect(() => readTorchCheckpoint(bytes)).toThrow(/would unpack to 1073741824 bytes from 4 bytes of storage.*crafted or corrupt/);
  });

  test('a small expanded view is still read', () => {
    const read = readTorchCheckpoint(checkpoint(stateDict(1, [3], [0]), { '0': floats(1) }));
    expect([...read.tensors.get('w')!.data]).toEqual([1, 1, 1]);
  });

  test('an entry the pickle never refers to is never unpacked, whatever size it declares', () => {
    const zip = checkpoint(stateDict(2, [2], [1]), { '0': floats(2), junk: new Uint8Array(64) });
    const bomb = patchCentral(zip, 'archive/data/junk', 24, 0xfffffff0);
    expect([...readTorchCheckpoint(bomb).tensors.get('w')!.data]).toEqual([1, 1]);
  });

  test("a storage whose size fields disagree with the pickle is refused before it is unpacked", () => {
    const zip = checkpoint(stateDict(2, [2], [1]), { '0': floats(2) });
    // Both size fields at 4 GiB − 16: beyond the file, named, no allocation.
    const edited = patchCentral(patchCentral(zip, 'archive/data/0', 24, 0xfffffff0), 'archive/data/0', 20, 0xfffffff0);
    expect(() => readTorchCheckpoint(edited)).toThrow(/archive\/data\/0 holds 4294967280 bytes; 2 float32 elements need 8/);
  });

  test('a deflated storage at a zip bomb ratio is refused', () => {
    const numel = 2 ** 21; // 8 MiB of zeros deflate to a few KiB
    const zip = checkpoint(stateDict(numel, [numel], [1]), { '0': new Uint8Array(4 * numel) }, 9);
    expect(() => readTorchCheckpoint(zip)).toThrow(/archive\/data\/0 would unpack .* to 8\.0 MiB, more than 16× \(a zip bomb\?\)/);
  });

  test('a storage whose bytes fail their CRC-32 is named', () => {
    const zip = checkpoint(stateDict(2, [2], [1]), { '0': floats(2) });
    const edited = patchCentral(zip, 'archive/data/0', 16, 0x12345678);
    expect(() => readTorchCheckpoint(edited)).toThrow(/archive\/data\/0 fails its CRC-32 check/);
  });
});

describe('crafted safetensors metadata', () => {
  /** A "project generator" whose metadata asks for the given sizes (600 bytes asking for gigabytes). */
  const exported = (generator: unknown) => ({
    name: 'crafted.safetensors',
    bytes: writeSafetensors(new Map([['feature_conv.network.0.weight', { shape: [1], data: new Float32Array(1) }]]), {
      metadata: { format: PROJECT_GENERATOR_FORMAT, generator: JSON.stringify(generator), localFeatures: 'none' },
    }),
  });

  test.each([
    [{ width: 1_000_000 }, /asks for width 1000000; an even integer from 16 to 256/],
    [{ width: 64, featureChannels: 1e9 }, /asks for 1000000000 feature channels/],
    [{ width: 64, dilations: [new Array(100_000).fill(1), [1], [1], [1]] }, /has dilations .*four lists of 1 to 64 integers/],
    [{ width: 64, dilations: [[1], [1], [1], [1]], cardinality: [3, 1, 1, 1] }, /has cardinality \[3,1,1,1\]/],
    ['big', /is not a JSON object of sizes/],
  ])('generator sizes %j are refused before any network is built', (sizes, message) => {
    const start = performance.now();
    expect(() => loadColorModel({ weights: exported(sizes) })).toThrow(ModelError);
    expect(() => loadColorModel({ weights: exported(sizes) })).toThrow(message);
    expect(performance.now() - start).toBeLessThan(1000);
  });
});
