// One fused Adam update of a parameter tensor, in place (PyTorch's torch.optim.Adam without weight decay):
//   m ← β1·m + (1 − β1)·g,   v ← β2·v + (1 − β2)·g²,   p ← p − step_size · m / (sqrt(v) / bc2_sqrt + eps)
// with step_size = lr / (1 − β1^t) and bc2_sqrt = sqrt(1 − β2^t). The host computes these and 1 − β in float64,
// as PyTorch does in Python floats: 1 − f32(0.999) would be off by 1e-5 relative. The step sizes change every
// step, so they come from a buffer the host rewrites (a recorded step replays with fixed uniforms); one
// pipeline serves every parameter. When `check_count` > 0 and any of those values in `check` (the update's
// loss terms) is NaN or ±Inf, nothing is written: the skip needs no readback.
// `p`: the uniforms declared in src/train/adam.ts, their struct generated from there.
#include "lib/grid.wgsl"

@group(0) @binding(1) var<storage, read_write> param: array<f32>;
@group(0) @binding(2) var<storage, read> grad: array<f32>;
@group(0) @binding(3) var<storage, read_write> exp_avg: array<f32>;
@group(0) @binding(4) var<storage, read_write> exp_avg_sq: array<f32>;
@group(0) @binding(5) var<storage, read> schedule: array<f32>;
@group(0) @binding(6) var<storage, read> check: array<f32>;

const WG: u32 = 256u;
const EXPONENT: u32 = 0x7f800000u;

// By the bits: WGSL lets compilers assume floats are finite, so comparisons cannot be trusted to see NaN.
fn all_finite() -> bool {
  for (var k = 0u; k < p.check_count; k++) {
    if ((bitcast<u32>(check[p.check_offset + k]) & EXPONENT) == EXPONENT) { return false; }
  }
  return true;
}

@compute @workgroup_size(WG)
fn adam_step(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = grid1d_index(gid, groups, WG);
  if (i >= p.count || !all_finite()) { return; }
  let step_size = schedule[p.schedule_offset];
  let bc2_sqrt = schedule[p.schedule_offset + 1u];
  let g = grad[p.grad_offset + i];
  let m = p.beta1 * exp_avg[i] + p.one_minus_beta1 * g;
  let v = p.beta2 * exp_avg_sq[i] + p.one_minus_beta2 * g * g;
  exp_avg[i] = m;
  exp_avg_sq[i] = v;
  param[p.param_offset + i] -= step_size * m / (sqrt(v) / bc2_sqrt + p.eps);
}
