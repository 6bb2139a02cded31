// PyTorch checkpoint import against fixtures written by tools/make-torch-fixtures.py (the way torch.save writes
// them); expected.json holds every tensor's values as Python decoded and gathered them.
import { readFileSync } from 'node:fs';
import { strToU8, unzipSync, zipSync } from 'fflate';
import { describe, expect, test } from 'vitest';
import { readTorchCheckpoint, TorchCheckpointError } from '../src/io/torch.js';

const dir = new URL('./fixtures/torch/', import.meta.url);
const fixture = (name: string) => new Uint8Array(readFileSync(new URL(name, dir)));

interface Expected {
  key: string;
  strippedPrefix: string | null;
  keyOption?: string;
  tensors: Record<string, { dtype: string; shape: number[]; values: (number | string)[] }>;
}
const expected = JSON.parse(readFileSync(new URL('expected.json', dir), 'utf8')) as Record<string, Expected>;

describe('readTorchCheckpoint: every tensor of every fixture', () => {
  for (const [file, want] of Object.entries(expected)) {
    test(file, () => {
      const read = readTorchCheckpoint(fixture(file), { key: want.keyOption });
      expect(read.container).toBe(file.startsWith('legacy') ? 'legacy' : 'zip');
      expect(read.key).toBe(want.key);
      expect(read.strippedPrefix).toBe(want.strippedPrefix);
      expect([...read.tensors.keys()]).toEqual(Object.keys(want.tensors));
      for (const [name, t] of Object.entries(want.tensors)) {
        const got = read.tensors.get(name)!;
        expect(got.dtype, name).toBe(t.dtype);
        expect(got.shape, name).toEqual(t.shape);
        if (got.dtype === 'I64') expect([...got.data], name).toEqual(t.values.map((v) => BigInt(v)));
        else expect([...got.data], name).toEqual(t.values);
      }
    });
  }

  test('the cases the fixtures are meant to cover are all there', () => {
    const all = expected['zip.pt'].tensors;
    expect(all['linear.weight'].shape).toEqual([3, 2]); // transposed storage
    expect(all['scale'].shape).toEqual([]); // 0-d
    expect(all['empty'].shape).toEqual([0, 4]);
    expect(new Set(Object.values(all).map((t) => t.dtype))).toEqual(new Set(['F32', 'F16', 'BF16', 'F64', 'I64']));
    expect(expected['legacy.pt'].tensors['legacy.view'].values).toHaveLength(2);
  });
});

describe('readTorchCheckpoint: options', () => {
  test('the module. prefix is kept on request', () => {
    const read = readTorchCheckpoint(fixture('zip-nested.pt'), { stripModulePrefix: false });
    expect(read.strippedPrefix).toBeNull();
    expect([...read.tensors.keys()].every((n) => n.startsWith('module.'))).toBe(true);
  });

  test('an explicit key finds the state dict; a wrong one lists the candidates', () => {
    expect(readTorchCheckpoint(fixture('zip-nested.pt'), { key: 'state_dict' }).tensors.size).toBe(4);
    expect(() => readTorchCheckpoint(fixture('zip-nested.pt'), { key: 'model' })).toThrow(/"model" does not name a dict of tensors.*these do: state_dict \(4 tensors\)/);
  });

  test('two state dicts without a key are ambiguous; optimizer state is never a candidate', () => {
    expect(() => readTorchCheckpoint(fixture('zip-two.pt'))).toThrow(/several state dicts: G \(4 tensors\), D \(4 tensors\)\. Choose one/);
    expect(readTorchCheckpoint(fixture('zip-two.pt'), { key: 'G' }).tensors.size).toBe(4);
  });

  test('by default contiguous float32 tensors share their storage; copy gives every tensor its own buffer', () => {
    const shared = readTorchCheckpoint(fixture('zip.pt'));
    expect(shared.tensors.get('encoder.weight')!.data.buffer).toBe(shared.tensors.get('decoder.weight')!.data.buffer);
    const bytes = fixture('legacy.pt');
    const owned = readTorchCheckpoint(bytes, { copy: true });
    const buffers = [...owned.tensors.values()].map((t) => t.data.buffer);
    expect(new Set(buffers).size).toBe(buffers.length);
    expect(buffers).not.toContain(bytes.buffer);
  });

  test('legacy float32 and int64 storages at aligned addresses are read in place, others copied', () => {
    // The storages' alignment depends on where the file sits in memory: try all four placements.
    const file = fixture('legacy.pt');
    const inPlaceCounts = [0, 1, 2, 3].map((shift) => {
      const bytes = new Uint8Array(file.length + shift).subarray(shift);
      bytes.set(file);
      const read = readTorchCheckpoint(bytes);
      for (const [name, t] of Object.entries(expected['legacy.pt'].tensors)) {
        if (t.dtype !== 'I64') expect([...read.tensors.get(name)!.data], name).toEqual(t.values);
      }
      const inPlace = [...read.tensors.values()].filter((t) => t.data.buffer === bytes.buffer);
      for (const t of inPlace) expect(['F32', 'I64']).toContain(t.dtype);
      return inPlace.length;
    });
    expect(inPlaceCounts.filter((n) => n > 0)).toHaveLength(1);
  });
});

/** A zip archive holding the given files, stored like torch's. */
const zip = (files: Record<string, Uint8Array | string>) =>
  zipSync(Object.fromEntries(Object.entries(files).map(([n, v]) => [n, typeof v === 'string' ? strToU8(v) : v])), { level: 0 });

describe('readTorchCheckpoint: refusals and broken files', () => {
  test('a checkpoint holding other Python objects is refused, naming the global', () => {
    expect(() => readTorchCheckpoint(fixture('zip-namespace.pt'))).toThrow(
      /refusing to load: this is not a plain state dict: it names the Python global argparse\.Namespace.*save `model\.state_dict\(\)`/s,
    );
  });

  test('foreign files say what they are', () => {
    const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
    expect(() => readTorchCheckpoint(png)).toThrow(/Not a PyTorch checkpoint: this is a PNG image/);
    expect(() => readTorchCheckpoint(strToU8('version https://git-lfs.github.com/spec/v1\noid sha256:abc\n'))).toThrow(/Git LFS pointer/);
    expect(() => readTorchCheckpoint(new Uint8Array(0))).toThrow(/an empty file/);
  });

  test('a zip without data.pkl, a TorchScript archive, a big-endian checkpoint', () => {
    expect(() => readTorchCheckpoint(zip({ 'photos/a.txt': 'hello' }))).toThrow(/no <prefix>\/data\.pkl, so it is not a PyTorch checkpoint \(it holds: photos\/a\.txt\)/);
    expect(() => readTorchCheckpoint(zip({ 'm/data.pkl': '\x80\x02N.', 'm/constants.pkl': '', 'm/code/m.py': '' }))).toThrow(/TorchScript archive/);
    expect(() => readTorchCheckpoint(zip({ 'archive/data.pkl': '\x80\x02N.', 'archive/byteorder': 'big' }))).toThrow(/big-endian/);
  });

  test('a pickle that is not a torch.save file', () => {
    const notTorch = zip({ 'archive/data.pkl': new Uint8Array([0x80, 0x02, 0x4e, 0x2e]) }); // the pickle of None
    expect(() => readTorchCheckpoint(notTorch)).toThrow(/no state dict \(a dict of tensors\): its top level is a None/);
    expect(() => readTorchCheckpoint(new Uint8Array([0x80, 0x02, 0x4b, 0x07, 0x2e]))).toThrow(/lacks the legacy magic number/);
    const badOpcode = zip({ 'archive/data.pkl': new Uint8Array([0x80, 0x02, 0x49, 0x30, 0x0a, 0x2e]) }); // INT (protocol 0)
    expect(() => readTorchCheckpoint(badOpcode)).toThrow(/Cannot import archive\/data\.pkl: refusing to load.*opcode INT/);
  });

  test('a storage shorter than the pickle says', () => {
    const files = unzipSync(fixture('zip.pt'));
    files['archive/data/0'] = files['archive/data/0'].subarray(0, 48);
    expect(() => readTorchCheckpoint(zipSync(files, { level: 0 }))).toThrow(/archive\/data\/0 holds 48 bytes; 24 float32 elements need 96 \(truncated file\?\)/);
  });

  test('every truncation of a zip or legacy checkpoint is a TorchCheckpointError', () => {
    for (const name of ['zip-nested.pt', 'legacy.pt']) {
      const bytes = fixture(name);
      for (let n = 0; n < bytes.length; n += 7) {
        expect(() => readTorchCheckpoint(bytes.subarray(0, n)), `${name} cut at ${n}`).toThrow(TorchCheckpointError);
      }
    }
  });
});
