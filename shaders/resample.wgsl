// Separable 1-D filters along the rows (AXIS 0) or the columns (AXIS 1) of a one-channel [height, width] plane:
// Gaussian blur and Lanczos upsampling. Both are one polyphase form: output i = q·P + p (source position q,
// phase p < P) is
//     dst[i] = Σ_t weights[p·T + t] · src[reflect(q + O + t)],   t < T,
// with T taps and offset O. Borders are half-sample symmetric ("reflect", dcba|abcd|dcba), extended
// periodically when the filter is wider than the plane.
//
// An invocation owns RUN = 16 consecutive source positions of one line (and, in turn, every phase of them),
// computed by the sliding register window of shaders/lib/window-filter.wgsl. Neighbouring invocations take
// neighbouring lines, so for AXIS 1 their loads are adjacent in memory.
override AXIS: u32 = 0u;

// `p`: the uniforms declared in src/kernels/resample.ts, their struct generated from there.
#include "lib/grid.wgsl"
#include "lib/window-filter.wgsl"

@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read> weights: array<f32>;
@group(0) @binding(3) var<storage, read_write> dst: array<f32>;

const WG: u32 = 64u;

// Sample j of `line`, reflected into [0, n) when outside.
fn load(j: i32, n: i32, line: u32) -> f32 {
  var k = j;
  if (k < 0 || k >= n) {
    let period = 2 * n;
    k = k % period;
    if (k < 0) { k += period; }
    if (k >= n) { k = period - 1 - k; }
  }
  if (AXIS == 0u) { return src[line * p.in_w + u32(k)]; }
  return src[u32(k) * p.in_w + line];
}

fn store(i: u32, line: u32, v: f32) {
  if (AXIS == 0u) { dst[line * p.out_w + i] = v; } else { dst[i * p.out_w + line] = v; }
}

@compute @workgroup_size(WG)
fn filter_axis(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let item = grid1d_index(gid, groups, WG);
  let runs = (p.positions + RUN - 1u) / RUN;
  if (item >= runs * p.lines) { return; }
  let line = item % p.lines;
  let q0 = (item / p.lines) * RUN;
  let n = i32(select(p.in_h, p.in_w, AXIS == 0u));
  let out_len = select(p.out_h, p.out_w, AXIS == 0u);

  let first = i32(q0) + p.offset;
  for (var ph = 0u; ph < p.phases; ph++) {
    // The outputs of positions q0 … q0+15, from the window of samples first+t … first+t+15 at tap t.
    var acc = Run(vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0));
    var win = Window(
      vec4<f32>(load(first, n, line), load(first + 1, n, line), load(first + 2, n, line), load(first + 3, n, line)),
      vec4<f32>(load(first + 4, n, line), load(first + 5, n, line), load(first + 6, n, line), load(first + 7, n, line)),
      vec4<f32>(load(first + 8, n, line), load(first + 9, n, line), load(first + 10, n, line), load(first + 11, n, line)),
      vec4<f32>(load(first + 12, n, line), load(first + 13, n, line), load(first + 14, n, line), 0.0),
    );
    for (var t = 0u; t < p.taps; t++) {
      windowTap(&acc, &win, weights[ph * p.taps + t], load(first + 15 + i32(t), n, line));
    }
    let i0 = q0 * p.phases + ph;
    for (var r = 0u; r < 4u; r++) {
      let i = i0 + r * p.phases;
      let s = 4u * p.phases;
      if (i < out_len) { store(i, line, acc.a0[r]); }
      if (i + s < out_len) { store(i + s, line, acc.a1[r]); }
      if (i + 2u * s < out_len) { store(i + 2u * s, line, acc.a2[r]); }
      if (i + 3u * s < out_len) { store(i + 3u * s, line, acc.a3[r]); }
    }
  }
}
