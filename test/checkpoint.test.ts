import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { readCheckpoint } from '../src/io/checkpoint.js';
import { writeSafetensors } from '../src/io/safetensors.js';
import { StateDictError } from '../src/nets/module.js';
import { checkTensorShapes, floatEntries, stripPrefix, summarize, type StoredTensors } from '../src/io/stored-tensors.js';

const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`./fixtures/torch/${name}`, import.meta.url)));

const f32 = (shape: number[], ...values: number[]) => ({ dtype: 'F32' as const, shape, data: Float32Array.from(values) });

describe('readCheckpoint picks the reader from the bytes', () => {
  test('PyTorch zip, PyTorch legacy and safetensors', () => {
    const zip = readCheckpoint(fixture('zip-nested.pt'));
    expect(zip.format).toBe('torch-zip');
    expect(zip.key).toBe('state_dict');
    expect(zip.strippedPrefix).toBe('module.');
    expect(readCheckpoint(fixture('legacy-nested.pt')).format).toBe('torch-legacy');

    const bytes = writeSafetensors(new Map([['module.w', { shape: [2], data: Float32Array.from([1, 2]) }]]), { metadata: { format: 'pt' } });
    const st = readCheckpoint(bytes);
    expect(st).toMatchObject({ format: 'safetensors', key: '', strippedPrefix: 'module.', metadata: { format: 'pt' } });
    expect([...st.tensors.keys()]).toEqual(['w']);
    expect(readCheckpoint(bytes, { stripModulePrefix: false }).tensors.has('module.w')).toBe(true);
    expect(() => readCheckpoint(bytes, { key: 'model' })).toThrow(/no key "model" to choose/);
  });

  test('anything else is named', () => {
    expect(() => readCheckpoint(Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10]))).toThrow(/Not a weights file: this is a JPEG image/);
    expect(() => readCheckpoint(new TextEncoder().encode('<!DOCTYPE html><html>'))).toThrow(/an HTML or XML page/);
  });
});

describe('stored tensors', () => {
  test('stripPrefix removes a prefix only when every name has it', () => {
    const all: StoredTensors = new Map([
      ['module.a', f32([1], 1)],
      ['module.b', f32([1], 2)],
    ]);
    expect([...stripPrefix(all).tensors.keys()]).toEqual(['a', 'b']);
    const some: StoredTensors = new Map([...all, ['c', f32([1], 3)]]);
    expect(stripPrefix(some)).toEqual({ tensors: some, stripped: null });
  });

  test('summarize and floatEntries', () => {
    const tensors: StoredTensors = new Map<string, StoredTensors extends Map<string, infer T> ? T : never>([
      ['w', f32([2, 2], 1, 2, 3, 4)],
      ['n', { dtype: 'I64', shape: [], data: BigInt64Array.from([7n]) }],
    ]);
    expect(summarize(tensors)).toEqual({ tensors: 2, elements: 5, dtypes: new Map([['F32', 1], ['I64', 1]]) });
    const floats = floatEntries(tensors);
    expect(floats.get('n')).toEqual({ shape: [], data: Float32Array.from([7]) });
    expect(floats.get('w')!.data).toBe(tensors.get('w')!.data);
  });
});

describe('checkTensorShapes (the hook for a per-architecture strict check)', () => {
  const expected = new Map([
    ['conv.weight', [8, 3, 3, 3]],
    ['conv.bias', [8]],
    ['bn.running_mean', [8]],
  ]);

  test('an exact match passes', () => {
    const tensors: StoredTensors = new Map([
      ['conv.weight', f32([8, 3, 3, 3])],
      ['conv.bias', f32([8])],
      ['bn.running_mean', f32([8])],
    ]);
    expect(() => checkTensorShapes(tensors, expected)).not.toThrow();
  });

  test('every missing, unexpected and mis-shaped tensor is reported in one error', () => {
    const tensors: StoredTensors = new Map([
      ['conv.weight', f32([8, 6, 3, 3])],
      ['extra.weight', f32([4])],
      ['conv.bias', f32([8])],
    ]);
    let error: unknown;
    try {
      checkTensorShapes(tensors, expected, 'generator_v1');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StateDictError);
    const mismatch = error as StateDictError;
    expect(mismatch.missing).toEqual(['bn.running_mean [8]']);
    expect(mismatch.unexpected).toEqual(['extra.weight [4]']);
    expect(mismatch.mismatched).toEqual(['conv.weight: checkpoint [8, 6, 3, 3], expected [8, 3, 3, 3]']);
    expect(mismatch.message).toMatch(/does not match generator_v1: 3 problems/);
    expect(mismatch.message).toMatch(/conv\.weight: checkpoint \[8, 6, 3, 3\], expected \[8, 3, 3, 3\][\s\S]*bn\.running_mean \[8\][\s\S]*extra\.weight \[4\]/);
    expect(mismatch.message).toMatch(/different prefix/);
  });
});
