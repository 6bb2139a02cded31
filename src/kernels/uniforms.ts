// Packs a kernel's uniform struct the way WGSL lays it out: 4-byte scalars in order, arrays of vec4 aligned to 16.
import { MAX_GROUPS_PER_DIM } from '../engine/engine.js';

export class UniformWriter {
  private readonly words = new Uint32Array(64);
  private readonly floats = new Float32Array(this.words.buffer);
  private at = 0;

  u32(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new Error(`uniform u32 out of range: ${v}`);
    this.words[this.at++] = v;
    return this;
  }

  i32(v: number): this {
    this.words[this.at++] = v | 0;
    return this;
  }

  f32(v: number): this {
    this.floats[this.at++] = v;
    return this;
  }

  /** array<vec4<u32>, length/4>: starts on a 16-byte boundary, unused entries zero. */
  u32Array(values: readonly number[], length: number): this {
    if (values.length > length) throw new Error(`uniform array holds ${length}, got ${values.length}`);
    this.align16();
    for (let i = 0; i < length; i++) this.u32(values[i] ?? 0);
    return this;
  }

  align16(): this {
    while (this.at % 4) this.words[this.at++] = 0;
    return this;
  }

  /** The packed struct, padded to 16 bytes. */
  done(): Uint32Array {
    this.align16();
    return this.words.slice(0, this.at);
  }
}

/** A size class for the profiler's table: the power of two at or above `n` ("≤64Ki"). */
export function sizeClass(n: number): string {
  const p = 2 ** Math.ceil(Math.log2(Math.max(n, 1)));
  return p >= 2 ** 20 ? `≤${p / 2 ** 20}Mi` : p >= 2 ** 10 ? `≤${p / 2 ** 10}Ki` : `≤${p}`;
}

/** A 1-D launch of `threads` invocations as a 2-D grid that respects the per-dimension workgroup limit. */
export function grid1d(threads: number, workgroupSize: number): [number, number] {
  const groups = Math.max(1, Math.ceil(threads / workgroupSize));
  const x = Math.min(groups, MAX_GROUPS_PER_DIM);
  return [x, Math.ceil(groups / x)];
}
