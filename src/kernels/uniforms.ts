// A kernel's uniforms, declared once by name and WGSL type: the declaration generates the WGSL struct and its
// binding (appended to the shader source, so the shader only reads `p.name`) and packs values by name into the
// layout WGSL gives that struct. TypeScript and WGSL cannot disagree on the order of the fields; a missing or
// misspelt field is a type error, and a value out of its type's range is a thrown one.
import { MAX_GROUPS_PER_DIM, UNIFORM_SLOT_BYTES } from '../engine/engine.js';

/** The WGSL types a uniform field may have: scalars, one vec4<u32>, or an array of them. */
export type UniformType = 'u32' | 'i32' | 'f32' | 'vec4<u32>' | `array<vec4<u32>, ${number}>`;

/** What each field takes when packing: a number for a scalar, up to 4·n numbers for a vector or array (zero-filled). */
export type UniformValues<S extends Record<string, UniformType>> = {
  readonly [K in keyof S]: S[K] extends 'u32' | 'i32' | 'f32' ? number : readonly number[];
};

interface Field {
  name: string;
  type: UniformType;
  /** In 4-byte words from the struct's start. */
  offset: number;
  /** 1 for a scalar, 4·n for vectors and arrays. */
  words: number;
}

const SCALARS = new Set<UniformType>(['u32', 'i32', 'f32']);
const ARRAY = /^array<vec4<u32>, (\d+)>$/;

/** One kernel's uniform struct, bound at binding 0 (the engine's contract) as `variable`. */
export class UniformStruct<S extends Record<string, UniformType>> {
  /** The struct and its binding, as WGSL; shaderSource() appends it to the kernel's source. */
  readonly wgsl: string;
  /** The struct's size in 4-byte words, padded to 16 bytes. */
  readonly words: number;
  private readonly fields: Field[] = [];

  constructor(
    readonly name: string,
    spec: S,
    readonly variable = 'p',
  ) {
    let at = 0;
    for (const [field, type] of Object.entries(spec) as [string, UniformType][]) {
      if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(field)) throw new Error(`${name}: "${field}" is not a WGSL identifier.`);
      let words: number;
      if (SCALARS.has(type)) words = 1;
      else if (type === 'vec4<u32>') words = 4;
      else {
        const n = Number(ARRAY.exec(type)?.[1]);
        if (!(n >= 1)) throw new Error(`${name}.${field}: unsupported uniform type ${type}.`);
        words = 4 * n;
      }
      // WGSL's uniform layout: scalars align to 4 bytes, vec4 and arrays of vec4 to 16.
      if (words > 1) at = Math.ceil(at / 4) * 4;
      this.fields.push({ name: field, type, offset: at, words });
      at += words;
    }
    this.words = Math.ceil(at / 4) * 4;
    if (4 * this.words > UNIFORM_SLOT_BYTES) throw new Error(`${name}: ${4 * this.words} bytes of uniforms exceed the engine's ${UNIFORM_SLOT_BYTES}-byte slot.`);
    const members = this.fields.map((f) => `  ${f.name}: ${f.type},`).join('\n');
    this.wgsl =
      `// Generated from the uniform declaration ${name} in TypeScript (src/kernels/uniforms.ts).\n` +
      `struct ${name} {\n${members}\n}\n@group(0) @binding(0) var<uniform> ${variable}: ${name};\n`;
  }

  /** The struct's bytes for `values`, laid out as WGSL lays out the struct. */
  pack(values: UniformValues<S>): Uint32Array {
    const words = new Uint32Array(this.words);
    const floats = new Float32Array(words.buffer);
    const given = values as Record<string, number | readonly number[] | undefined>;
    for (const { name, type, offset, words: n } of this.fields) {
      const v = given[name];
      if (v === undefined) throw new Error(`${this.name}: no value for uniform ${name}.`);
      if (typeof v === 'number') {
        if (n !== 1) throw new Error(`${this.name}.${name} is ${type}: give an array of numbers.`);
        if (type === 'f32') floats[offset] = v;
        else words[offset] = checkedInteger(this.name, name, type, v);
      } else {
        if (n === 1) throw new Error(`${this.name}.${name} is ${type}: give a number.`);
        if (v.length > n) throw new Error(`${this.name}.${name} holds ${n} values, got ${v.length}.`);
        for (let i = 0; i < v.length; i++) words[offset + i] = checkedInteger(this.name, name, 'u32', v[i]);
      }
    }
    return words;
  }
}

function checkedInteger(struct: string, field: string, type: UniformType, v: number): number {
  const [lo, hi] = type === 'i32' ? [-(2 ** 31), 2 ** 31 - 1] : [0, 2 ** 32 - 1];
  if (!Number.isInteger(v) || v < lo || v > hi) throw new Error(`${struct}.${field}: ${v} is not a ${type}.`);
  return v >>> 0;
}

/** Declares a kernel's uniform struct (see UniformStruct); `variable` is its name in the shader. */
export function uniformStruct<S extends Record<string, UniformType>>(name: string, spec: S, variable = 'p'): UniformStruct<S> {
  return new UniformStruct(name, spec, variable);
}

/**
 * A kernel family's complete source: the shader file (its #include lines already expanded when it was bundled)
 * followed by the generated WGSL of its uniform structs and of anything else generated from TypeScript. WGSL
 * declarations may come in any order, so appending keeps the line numbers of compiler messages those of the file.
 */
export function shaderSource(shader: string, ...generated: (string | { readonly wgsl: string })[]): string {
  return [shader, ...generated.map((g) => (typeof g === 'string' ? g : g.wgsl))].join('\n');
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
