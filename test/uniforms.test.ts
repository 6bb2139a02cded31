// The kernel contract's uniforms: a declaration generates the WGSL struct and packs values into the layout WGSL
// gives it (checked on the device by a shader that copies every field out), and refuses what does not fit.
import { describe, expect, test } from 'vitest';
import { engine as currentEngine } from '../src/engine/engine.js';
import { Tensor } from '../src/engine/tensor.js';
import { shaderSource, uniformStruct } from '../src/kernels/uniforms.js';
import { useTestEngine } from './helpers/gpu.js';

const engine = useTestEngine();

// Every kind of field, in an order that makes WGSL align the vectors: u32 at 0, i32 at 4, f32 at 8, the vec4 at
// 16, a u32 at 32, the array at 48, an f32 after it.
const Mixed = uniformStruct('MixedParams', {
  count: 'u32',
  shift: 'i32',
  scale: 'f32',
  offsets: 'vec4<u32>',
  rank: 'u32',
  shape: 'array<vec4<u32>, 3>',
  eps: 'f32',
});

const values = { count: 7, shift: -3, scale: 0.375, offsets: [1, 2, 3], rank: 4_000_000_000, shape: [5, 6, 7, 8, 9, 10, 11, 12, 13, 14], eps: 1e-5 };

describe('uniform declarations', () => {
  test('the generated struct lists the fields in order, bound at binding 0', () => {
    expect(Mixed.wgsl).toContain('struct MixedParams {\n  count: u32,\n  shift: i32,\n  scale: f32,\n  offsets: vec4<u32>,\n  rank: u32,\n  shape: array<vec4<u32>, 3>,\n  eps: f32,\n}');
    expect(Mixed.wgsl).toContain('@group(0) @binding(0) var<uniform> p: MixedParams;');
    expect(shaderSource('fn f() {}', Mixed, '// more')).toBe(`fn f() {}\n${Mixed.wgsl}\n// more`);
  });

  test('packing follows WGSL alignment: vectors and arrays on 16 bytes, the struct padded to 16', () => {
    const words = Mixed.pack(values);
    const floats = new Float32Array(words.buffer);
    expect(words.length).toBe(Mixed.words);
    expect(Mixed.words).toBe(28); // eps at word 24, padded to 28
    expect([words[0], words[1] | 0, floats[2]]).toEqual([7, -3, 0.375]);
    expect([...words.slice(4, 8)]).toEqual([1, 2, 3, 0]);
    expect(words[8]).toBe(4_000_000_000);
    expect([...words.slice(12, 24)]).toEqual([5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 0, 0]);
    expect(floats[24]).toBeCloseTo(1e-5, 12);
  });

  test('a missing field, a value out of its type, or too many values is refused with the field named', () => {
    const { eps: _eps, ...missing } = values;
    expect(() => Mixed.pack(missing as typeof values)).toThrow(/MixedParams: no value for uniform eps/);
    expect(() => Mixed.pack({ ...values, count: -1 })).toThrow(/MixedParams.count: -1 is not a u32/);
    expect(() => Mixed.pack({ ...values, count: 1.5 })).toThrow(/MixedParams.count: 1.5 is not a u32/);
    expect(() => Mixed.pack({ ...values, shift: 2 ** 31 })).toThrow(/MixedParams.shift: 2147483648 is not a i32/);
    expect(() => Mixed.pack({ ...values, offsets: [1, 2, 3, 4, 5] })).toThrow(/MixedParams.offsets holds 4 values, got 5/);
  });

  test('a struct larger than the engine\'s uniform slot is refused when declared', () => {
    expect(() => uniformStruct('Big', { a: 'array<vec4<u32>, 16>', b: 'u32' })).toThrow(/272 bytes of uniforms exceed the engine's 256-byte slot/);
  });

  test('the device reads every field where the packer put it', async () => {
    // Each field copied out as its bits, in declaration order (vectors and arrays element by element).
    const shader = `
@group(0) @binding(1) var<storage, read_write> out: array<u32>;
@compute @workgroup_size(1)
fn main() {
  out[0] = p.count;
  out[1] = bitcast<u32>(p.shift);
  out[2] = bitcast<u32>(p.scale);
  for (var i = 0u; i < 4u; i++) { out[3u + i] = p.offsets[i]; }
  out[7] = p.rank;
  for (var i = 0u; i < 12u; i++) { out[8u + i] = p.shape[i / 4u][i % 4u]; }
  out[20] = bitcast<u32>(p.eps);
}`;
    const out = Tensor.empty([21]);
    currentEngine().dispatch({ family: 'uniforms-test', source: shaderSource(shader, Mixed), entry: 'main' }, Mixed.pack(values), [out.storage.buffer], [1]);
    const bits = new Uint32Array((await out.data()).buffer);
    const f32 = (v: number) => new Uint32Array(Float32Array.of(v).buffer)[0];
    expect([...bits]).toEqual([7, -3 >>> 0, f32(0.375), 1, 2, 3, 0, 4_000_000_000, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 0, 0, f32(1e-5)]);
    out.dispose();
  });
});

describe('dispatch sizes are checked in one place', () => {
  const kernel = { family: 'uniforms-test', source: shaderSource('@compute @workgroup_size(1) fn main() {}', uniformStruct('NoParams', { unused: 'u32' })), entry: 'main' };
  const uniforms = new Uint32Array(4);

  test('beyond the device limit per dimension', () => {
    const limit = engine().gpu.limits.maxComputeWorkgroupsPerDimension;
    expect(() => engine().dispatch(kernel, uniforms, [], [1, limit + 1])).toThrow(
      new RegExp(`uniforms-test:main: a launch of \\[1, ${limit + 1}, 1\\] workgroups exceeds this device's ${limit} per dimension`),
    );
  });

  test('fractions and negative sizes are host bugs, named as such', () => {
    expect(() => engine().dispatch(kernel, uniforms, [], [2.5])).toThrow(/not a grid of whole numbers/);
    expect(() => engine().dispatch(kernel, uniforms, [], [1, -1])).toThrow(/not a grid of whole numbers/);
  });
});
