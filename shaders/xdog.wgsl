// XDoG after the horizontal filtering (REFERENCE §2). The host has filtered each row of the grey image with
// the narrow and the wide Gaussian (each composed with the Lanczos upsampling when mult > 1: see
// composeAfterUpsampling), giving h1 and h2 at the upsampled width. Here:
//   dog_energy      the vertical filters, g1 and g2, D = g1 − γ·g2 and E = D < ε ? 1 : 1 + tanh(φ·D), stored,
//                   with per-invocation [min, max] pairs;
//   histogram       the 256-bin histogram of the min-max normalised E;
//   threshold_area  E ≥ Otsu's t, averaged over each mult×mult block back to the original resolution.
// The host finishes the min/max and computes Otsu's threshold from the 256 counts.

// `p`: the uniforms declared in src/kernels/xdog.ts, their struct generated from there.
#include "lib/grid.wgsl"
#include "lib/window-filter.wgsl"

const WG: u32 = 64u;

fn normalised(e: f32) -> f32 {
  return (e - p.lo) / (p.hi - p.lo);
}

// ---- dog_energy ----------------------------------------------------------------------------------------

@group(0) @binding(1) var<storage, read> h1: array<f32>;
@group(0) @binding(2) var<storage, read> h2: array<f32>;
@group(0) @binding(3) var<storage, read> weights: array<f32>;
@group(0) @binding(4) var<storage, read_write> e_out: array<f32>;
@group(0) @binding(5) var<storage, read_write> minmax: array<f32>;

// Row j (reflected into [0, in_h)) of column `line` of h1 (which 0) or h2 (which 1).
fn sample(which: u32, j: i32, line: u32) -> f32 {
  let n = i32(p.in_h);
  // Branch-free reflection (the same index for rows inside): SwiftShader's shader compiler takes minutes on
  // this function when each of its ~30 inlined copies has its own branches.
  let period = 2 * n;
  var k = j % period;
  k = select(k, k + period, k < 0);
  k = select(k, period - 1 - k, k >= n);
  let i = u32(k) * p.width + line;
  if (which == 0u) { return h1[i]; }
  return h2[i];
}

// Phase `ph` of the vertical filter at rows q0 … q0+15: the sliding register window of shaders/lib/window-filter.wgsl.
fn vertical(which: u32, q0: u32, ph: u32, line: u32) -> Run {
  let taps = select(p.taps2, p.taps1, which == 0u);
  let w0 = select(p.phases * p.taps1 + ph * p.taps2, ph * p.taps1, which == 0u);
  let first = i32(q0) + select(p.offset2, p.offset1, which == 0u);
  var r = Run(vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0));
  var win = Window(
    vec4<f32>(sample(which, first, line), sample(which, first + 1, line), sample(which, first + 2, line), sample(which, first + 3, line)),
    vec4<f32>(sample(which, first + 4, line), sample(which, first + 5, line), sample(which, first + 6, line), sample(which, first + 7, line)),
    vec4<f32>(sample(which, first + 8, line), sample(which, first + 9, line), sample(which, first + 10, line), sample(which, first + 11, line)),
    vec4<f32>(sample(which, first + 12, line), sample(which, first + 13, line), sample(which, first + 14, line), 0.0),
  );
  for (var t = 0u; t < taps; t++) {
    windowTap(&r, &win, weights[w0 + t], sample(which, first + 15 + i32(t), line));
  }
  return r;
}

fn energy4(g1: vec4<f32>, g2: vec4<f32>) -> vec4<f32> {
  let d = g1 - p.gamma * g2;
  // tanh saturates long before ±20; the clamp keeps exp-based tanh implementations away from inf/inf.
  return select(1.0 + tanh(clamp(p.phi * d, vec4<f32>(-20.0), vec4<f32>(20.0))), vec4<f32>(1.0), d < vec4<f32>(p.epsilon));
}

// Stores E of rows first … first+3 of a run (those below nq) and folds them into lo/hi.
fn put4(e: vec4<f32>, row0: u32, first: u32, nq: u32, line: u32, lo: ptr<function, vec4<f32>>, hi: ptr<function, vec4<f32>>) {
  let stride = p.phases * p.width;
  let i = (row0 + first * p.phases) * p.width + line;
  if (first + 4u <= nq) {
    e_out[i] = e.x;
    e_out[i + stride] = e.y;
    e_out[i + 2u * stride] = e.z;
    e_out[i + 3u * stride] = e.w;
    *lo = min(*lo, e);
    *hi = max(*hi, e);
  } else if (first < nq) {
    // The last run of a strip may be short: rows past its core are neither stored nor counted.
    let valid = vec4<u32>(first) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(nq);
    e_out[i] = e.x;
    if (valid.y) { e_out[i + stride] = e.y; }
    if (valid.z) { e_out[i + 2u * stride] = e.z; }
    *lo = select(*lo, min(*lo, e), valid);
    *hi = select(*hi, max(*hi, e), valid);
  }
}

// One invocation: column `line`, rows q0 … q0+15 of h1/h2, every phase; neighbouring invocations take
// neighbouring columns, so their loads are adjacent in memory.
@compute @workgroup_size(WG)
fn dog_energy(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let item = grid1d_index(gid, groups, WG);
  let runs = (p.q_end - p.q_begin + RUN - 1u) / RUN;
  if (item >= runs * p.width) { return; }
  let line = item % p.width;
  let q0 = p.q_begin + (item / p.width) * RUN;
  let nq = min(RUN, p.q_end - q0);
  var lo = vec4<f32>(0x1.fffffep+127f);
  var hi = vec4<f32>(-0x1.fffffep+127f);
  for (var ph = 0u; ph < p.phases; ph++) {
    let n = vertical(0u, q0, ph, line);
    let w = vertical(1u, q0, ph, line);
    let row0 = (q0 - p.q_begin) * p.phases + ph;
    put4(energy4(n.a0, w.a0), row0, 0u, nq, line, &lo, &hi);
    put4(energy4(n.a1, w.a1), row0, 4u, nq, line, &lo, &hi);
    put4(energy4(n.a2, w.a2), row0, 8u, nq, line, &lo, &hi);
    put4(energy4(n.a3, w.a3), row0, 12u, nq, line, &lo, &hi);
  }
  minmax[2u * item] = min(min(lo.x, lo.y), min(lo.z, lo.w));
  minmax[2u * item + 1u] = max(max(hi.x, hi.y), max(hi.z, hi.w));
}

// ---- histogram of normalised E: bin = min(⌊256·(E − lo)/(hi − lo)⌋, 255) ----------------------------------

@group(0) @binding(1) var<storage, read> e_in: array<f32>;
@group(0) @binding(2) var<storage, read_write> counts: array<atomic<u32>, 256>;

/** Elements per invocation. */
const PER: u32 = 1024u;

// Each invocation counts PER elements (lane-interleaved: invocation j of its workgroup takes every WG-th) in a
// private histogram, then adds its non-zero bins to the global one. On llvmpipe this is twice as fast as
// atomics in workgroup memory, which serialise every element.
@compute @workgroup_size(WG)
fn histogram(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  var bins: array<u32, 256>;
  let j = grid1d_index(gid, groups, WG);
  let base = (j / WG) * WG * PER + j % WG;
  for (var k = 0u; k < PER; k++) {
    let i = base + k * WG;
    if (i < p.count) { bins[min(u32(floor(normalised(e_in[i]) * 256.0)), 255u)] += 1u; }
  }
  for (var b = 0u; b < 256u; b++) {
    if (bins[b] > 0u) { atomicAdd(&counts[b], bins[b]); }
  }
}

// ---- threshold and area averaging: out = fraction of the mult×mult block with normalised E ≥ t -----------

@group(0) @binding(2) var<storage, read_write> sketch: array<f32>;

@compute @workgroup_size(WG)
fn threshold_area(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let o = grid1d_index(gid, groups, WG);
  if (o >= p.count) { return; }
  let x = o % p.out_w;
  let y = o / p.out_w;
  var ink = 0u;
  for (var dy = 0u; dy < p.phases; dy++) {
    let row = (y * p.phases + dy) * p.width + x * p.phases;
    for (var dx = 0u; dx < p.phases; dx++) {
      ink += select(0u, 1u, normalised(e_in[row + dx]) >= p.threshold);
    }
  }
  sketch[p.out_offset + o] = f32(ink) / f32(p.phases * p.phases);
}
