// x / max(‖x‖₂, eps) for one vector (torch.nn.functional.normalize), in one launch of one workgroup, written to
// two buffers: spectral norm's power iteration needs the new u (or v) both as its stored state and as the
// graph's own copy. As separate ops (square, sum, sqrt, max, divide, copy) this was a third of the dispatches of
// a training step; the vectors are short (a layer's output channels, or in·kh·kw), so one workgroup suffices.
// `p`: the uniforms declared in src/kernels/normalize.ts, their struct generated from there.
#include "lib/workgroup-reduce.wgsl"

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<storage, read_write> stored: array<f32>;

const WG: u32 = 64u;

fn combine(a: f32, b: f32) -> f32 {
  return a + b;
}

@compute @workgroup_size(WG)
fn normalize_into(@builtin(local_invocation_index) lid: u32) {
  var acc = 0.0;
  for (var i = lid; i < p.n; i += WG) {
    let v = x[p.x_offset + i];
    acc += v * v;
  }
  // Divided, not multiplied by a reciprocal: the same rounding as PyTorch's x / denominator.
  let denominator = max(sqrt(workgroup_reduce(lid, acc)), p.eps);
  for (var i = lid; i < p.n; i += WG) {
    let v = x[p.x_offset + i] / denominator;
    out[i] = v;
    stored[p.stored_offset + i] = v;
  }
}
