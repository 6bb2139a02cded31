// Partial sums of up to 7 tensors (contiguous runs in their own buffers) in one launch: workgroup (c, k) sums
// chunk c (CHUNK elements) of tensor k with a tree in workgroup memory and writes partial[k, c]; chunks past a
// tensor's end write 0, so the partials form a dense [tensors, pieces] matrix that the reduction kernel sums in
// a fixed order. A training step checks every gradient for NaN/Inf through their sum: one workgroup per
// tensor left a 64-lane loop over millions of elements on the critical path of every update.
// Seven inputs + the output keep to WebGPU's minimum of 8 storage buffers per stage.
// `p`: the uniforms declared in src/kernels/reduce.ts (SumEachParams), their struct generated from there.
#include "lib/workgroup-reduce.wgsl"

@group(0) @binding(1) var<storage, read> t0: array<f32>;
@group(0) @binding(2) var<storage, read> t1: array<f32>;
@group(0) @binding(3) var<storage, read> t2: array<f32>;
@group(0) @binding(4) var<storage, read> t3: array<f32>;
@group(0) @binding(5) var<storage, read> t4: array<f32>;
@group(0) @binding(6) var<storage, read> t5: array<f32>;
@group(0) @binding(7) var<storage, read> t6: array<f32>;
@group(0) @binding(8) var<storage, read_write> out: array<f32>;

const WG: u32 = 64u;
// Elements per workgroup: 4,096 on a GPU (many workgroups), 65,536 on a CPU rasteriser (few, long ones).
override CHUNK: u32 = 4096u;

fn combine(a: f32, b: f32) -> f32 {
  return a + b;
}

// Element i of tensor k's buffer; k is the same across a workgroup, so the branch never diverges.
fn load(k: u32, i: u32) -> f32 {
  switch k {
    case 0u: { return t0[i]; }
    case 1u: { return t1[i]; }
    case 2u: { return t2[i]; }
    case 3u: { return t3[i]; }
    case 4u: { return t4[i]; }
    case 5u: { return t5[i]; }
    default: { return t6[i]; }
  }
}

@compute @workgroup_size(WG)
fn sum_each(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let c = wid.x;
  let k = wid.y;
  let size = p.sizes[k / 4u][k % 4u];
  let offset = p.offsets[k / 4u][k % 4u];
  // Chunks past this tensor's end (the grid is as wide as the largest tensor's) only write their zero; the
  // condition is the same for the whole workgroup, so leaving before the barriers is allowed.
  if (c * CHUNK >= size) {
    if (lid == 0u) { out[p.out_offset + k * p.pieces + c] = 0.0; }
    return;
  }
  let end = min(size, (c + 1u) * CHUNK);
  var acc = 0.0;
  for (var i = c * CHUNK + lid; i < end; i += WG) { acc += load(k, offset + i); }
  let total = workgroup_reduce(lid, acc);
  if (lid == 0u) { out[p.out_offset + k * p.pieces + c] = total; }
}
