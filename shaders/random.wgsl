// Seeded random fills. Counter-based: element i of a fill keyed (k0, k1) is a pure function of (i, k0, k1),
// so results are reproducible on every device and independent of workgroup scheduling, and the CPU can
// recompute them bit for bit (src/kernels/random.ts).
// `p`: the uniforms declared in src/kernels/random.ts, their struct generated from there.
#include "lib/grid.wgsl"

@group(0) @binding(1) var<storage, read_write> out: array<f32>;

const WG: u32 = 256u;

// A 32-bit integer hash with good avalanche (the "lowbias32" constants of Wellons' hash search).
fn mix32(x: u32) -> u32 {
  var h = x;
  h ^= h >> 16u; h *= 0x7feb352du;
  h ^= h >> 15u; h *= 0x846ca68bu;
  h ^= h >> 16u;
  return h;
}

fn bits(i: u32) -> u32 {
  return mix32(mix32(i ^ p.key0) ^ p.key1);
}

// 24 random bits as a float in [0, 1).
fn unit(i: u32) -> f32 {
  return f32(bits(i) >> 8u) * (1.0 / 16777216.0);
}

@compute @workgroup_size(WG)
fn uniform_fill(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = grid1d_index(gid, groups, WG);
  if (i >= p.count) { return; }
  out[i] = p.a + (p.b - p.a) * unit(i);
}

// Box–Muller on the uniform pair (2i, 2i+1); u1 is shifted to (0, 1] so the log is finite.
@compute @workgroup_size(WG)
fn normal_fill(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = grid1d_index(gid, groups, WG);
  if (i >= p.count) { return; }
  let u1 = unit(2u * i) + (1.0 / 16777216.0);
  let u2 = unit(2u * i + 1u);
  out[i] = p.a + p.b * sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}
