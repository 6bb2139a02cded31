// Reductions (sum, max) of a strided view over a set of axes. The host permutes the input view so that kept
// dims come first and reduced dims last: output o reduces the K elements at linear indices o·K … o·K+K−1 of
// that permuted view. Long reductions over few outputs are split into S chunks per output (work item
// j = o·S + s covers one chunk) and finished by a second launch over the S partials, so all cores/SMs help.
override OP: u32 = 0u;   // 0: sum, 1: max

// `p`: the uniforms declared in src/kernels/reduce.ts (ReduceParams), their struct generated from there.
#include "lib/grid.wgsl"
#include "lib/workgroup-reduce.wgsl"

@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;

const WG: u32 = 64u;

fn identity() -> f32 {
  return select(0.0, -0x1.fffffep+127f, OP == 1u);
}

fn combine(a: f32, b: f32) -> f32 {
  return select(a + b, max(a, b), OP == 1u);
}

// Input offset of element r of output o in the permuted view.
fn input_offset(o: u32, r: u32) -> u32 {
  var rest = o * p.length + r;
  var off = p.in_offset;
  for (var d = i32(p.rank) - 1; d >= 0; d--) {
    let n = p.shape[u32(d) / 4u][u32(d) % 4u];
    off += (rest % n) * p.strides[u32(d) / 4u][u32(d) % 4u];
    rest /= n;
  }
  return off;
}

// When one or two dims are reduced (the host merges adjacent reduced dims; a bias gradient sums over batch and
// pixels: two), the inner loop walks the reduced dims' indices by additions from the offset of output o's first
// element, decomposed once: no per-element division, which on llvmpipe is a scalar loop over the SIMD lanes.
fn kept_offset(o: u32) -> u32 {
  var rest = o;
  var off = p.in_offset;
  for (var d = i32(p.rank) - 1 - i32(p.reduced_rank); d >= 0; d--) {
    let n = p.shape[u32(d) / 4u][u32(d) % 4u];
    off += (rest % n) * p.strides[u32(d) / 4u][u32(d) % 4u];
    rest /= n;
  }
  return off;
}

fn dim_size(d: u32) -> u32 {
  return p.shape[d / 4u][d % 4u];
}

fn dim_stride(d: u32) -> u32 {
  return p.strides[d / 4u][d % 4u];
}

// combine() over elements [start, end) of output o, every `step`-th.
fn reduce_range(o: u32, start: u32, end: u32, step: u32) -> f32 {
  var acc = identity();
  if (p.reduced_rank == 1u) {
    let base = kept_offset(o);
    let stride = dim_stride(p.rank - 1u);
    for (var r = start; r < end; r += step) { acc = combine(acc, src[base + r * stride]); }
  } else if (p.reduced_rank == 2u) {
    // r = i0 · n1 + i1, stepped by (step / n1, step % n1) with a carry.
    let base = kept_offset(o);
    let n1 = dim_size(p.rank - 1u);
    let s0 = dim_stride(p.rank - 2u);
    let s1 = dim_stride(p.rank - 1u);
    let q = step / n1;
    let rem = step % n1;
    var i0 = start / n1;
    var i1 = start % n1;
    for (var r = start; r < end; r += step) {
      acc = combine(acc, src[base + i0 * s0 + i1 * s1]);
      i0 += q;
      i1 += rem;
      if (i1 >= n1) { i1 -= n1; i0 += 1u; }
    }
  } else {
    for (var r = start; r < end; r += step) { acc = combine(acc, src[input_offset(o, r)]); }
  }
  return acc;
}

fn finish(j: u32, v: f32) {
  dst[j] = v * p.scale;
}

// One invocation per work item: short reductions (K ≤ a few dozen) over many outputs.
@compute @workgroup_size(WG)
fn reduce_serial(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let j = grid1d_index(gid, groups, WG);
  if (j >= p.items) { return; }
  let o = j / p.splits;
  let start = (j % p.splits) * p.chunk;
  let end = min(start + p.chunk, p.length);
  finish(j, reduce_range(o, start, end, 1u));
}

// One workgroup per work item: its threads stride over the chunk, then a tree reduction in workgroup memory.
@compute @workgroup_size(WG)
fn reduce_parallel(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
                   @builtin(num_workgroups) groups: vec3<u32>) {
  let j = grid1d_index(wid, groups, 1u);
  let in_range = j < p.items;
  var acc = identity();
  if (in_range) {
    let o = j / p.splits;
    let start = (j % p.splits) * p.chunk;
    let end = min(start + p.chunk, p.length);
    acc = reduce_range(o, start + lid, end, WG);
  }
  let total = workgroup_reduce(lid, acc);
  if (in_range && lid == 0u) { finish(j, total); }
}

// reduce_parallel over one contiguous reduced dim read as vec4 (the host checks that output o's first element
// and the chunks start on multiples of 4): a lane takes 4 consecutive elements per load, then the 4 partial
// results combine; the last (end − start) mod 4 elements go to the first lanes one by one.
@group(0) @binding(1) var<storage, read> src4: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn reduce_parallel4(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
                    @builtin(num_workgroups) groups: vec3<u32>) {
  let j = grid1d_index(wid, groups, 1u);
  let in_range = j < p.items;
  var acc = identity();
  if (in_range) {
    let o = j / p.splits;
    let start = (j % p.splits) * p.chunk;
    let end = min(start + p.chunk, p.length);
    let base = kept_offset(o);
    let full = start + (end - start) / 4u * 4u;
    var acc4 = vec4<f32>(identity());
    for (var r = start + 4u * lid; r < full; r += 4u * WG) {
      acc4 = select(acc4 + src4[(base + r) / 4u], max(acc4, src4[(base + r) / 4u]), OP == 1u);
    }
    acc = combine(combine(acc4.x, acc4.y), combine(acc4.z, acc4.w));
    if (full + lid < end) {
      let i = base + full + lid;
      acc = combine(acc, src4[i / 4u][i % 4u]);
    }
  }
  let total = workgroup_reduce(lid, acc);
  if (in_range && lid == 0u) { finish(j, total); }
}
