// Elementwise kernels over strided views. Every operand (output included) is addressed through its own strides
// over the output's shape, so one kernel serves contiguous tensors, broadcasting (stride 0), permuted views,
// and writes into a slice of a larger tensor (concat, pad). The host collapses mergeable dimensions first, so
// the common contiguous case runs with rank 1.
//
// OP selects the function: unary_op and binary_op are generated from the op tables of src/kernels/elementwise.ts
// (one WGSL expression per op, its code its position there); the compiler folds the switch away.
// `p`: the uniforms declared in src/kernels/elementwise.ts, their struct generated from there.
#include "lib/grid.wgsl"
override OP: u32 = 0u;

const WG: u32 = 256u;

// Element offsets (out, a, b, c) of output element i.
fn offsets_of(i: u32) -> vec4<u32> {
  // Contiguous operands (and scalars broadcast over them) collapse to rank 1: no division, which on llvmpipe is
  // a scalar loop over the SIMD lanes.
  if (p.rank == 1u) { return p.offsets + i * p.strides[0]; }
  var rest = i;
  var o = p.offsets;
  for (var d = i32(p.rank) - 1; d >= 0; d--) {
    let n = p.shape[u32(d) / 4u][u32(d) % 4u];
    o += (rest % n) * p.strides[d];
    rest /= n;
  }
  return o;
}

// x^y with the real-valued conventions of PyTorch: integer exponents work for negative bases, x^0 = 1.
fn power(x: f32, y: f32) -> f32 {
  if (y == 0.0) { return 1.0; }
  if (x >= 0.0) { return pow(x, y); }
  if (y != floor(y)) { return pow(x, y); }                      // negative base, fractional exponent: NaN
  let m = pow(-x, y);
  return select(m, -m, fract(y * 0.5) != 0.0);
}

@group(0) @binding(1) var<storage, read_write> fill_out: array<f32>;

@compute @workgroup_size(WG)
fn fill(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = grid1d_index(gid, groups, WG);
  if (i >= p.count) { return; }
  fill_out[offsets_of(i).x] = p.alpha;
}

@group(0) @binding(1) var<storage, read> ua: array<f32>;
@group(0) @binding(2) var<storage, read_write> u_out: array<f32>;

@compute @workgroup_size(WG)
fn unary(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = grid1d_index(gid, groups, WG);
  if (i >= p.count) { return; }
  let o = offsets_of(i);
  u_out[o.x] = unary_op(ua[o.y], p.alpha, p.beta);
}

@group(0) @binding(1) var<storage, read> ba: array<f32>;
@group(0) @binding(2) var<storage, read> bb: array<f32>;
@group(0) @binding(3) var<storage, read_write> b_out: array<f32>;

@compute @workgroup_size(WG)
fn binary(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = grid1d_index(gid, groups, WG);
  if (i >= p.count) { return; }
  let o = offsets_of(i);
  b_out[o.x] = binary_op(ba[o.y], bb[o.z], p.alpha, p.beta);
}

// unary4 and binary4: four consecutive elements of the innermost dimension per invocation, for launches whose
// operands are each contiguous along it (read as aligned vec4) or broadcast along it (one value, splatted): the
// host checks (vec4Launch in src/kernels/elementwise.ts). One offset computation serves four elements, and on
// llvmpipe one vec4 load is one loop over the SIMD lanes where four scalar loads are four.
@group(0) @binding(1) var<storage, read> ua4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> u_out4: array<vec4<f32>>;

// Operand k's four values at element offset `at`: the aligned vec4 there, or its one value splatted.
fn quad(v: vec4<f32>, at: u32, k: u32) -> vec4<f32> {
  return select(vec4<f32>(v[at % 4u]), v, p.strides[p.rank - 1u][k] == 1u);
}

@compute @workgroup_size(WG)
fn unary4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = 4u * grid1d_index(gid, groups, WG);
  if (i >= p.count) { return; }
  let o = offsets_of(i);
  let x = quad(ua4[o.y / 4u], o.y, 1u);
  u_out4[o.x / 4u] = vec4<f32>(unary_op(x.x, p.alpha, p.beta), unary_op(x.y, p.alpha, p.beta), unary_op(x.z, p.alpha, p.beta), unary_op(x.w, p.alpha, p.beta));
}

// unary4_scatter: the same four source values written STRIDE-apart where the output is not contiguous along the
// innermost dimension (a permuted copy: pixel shuffle, NCHW → NHWC); the host moves the source's contiguous
// dimension innermost for it.
@group(0) @binding(1) var<storage, read> us4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> us_out: array<f32>;

@compute @workgroup_size(WG)
fn unary4_scatter(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = 4u * grid1d_index(gid, groups, WG);
  if (i >= p.count) { return; }
  let o = offsets_of(i);
  let x = us4[o.y / 4u];
  let step = p.strides[p.rank - 1u].x;
  for (var k = 0u; k < 4u; k++) { us_out[o.x + k * step] = unary_op(x[k], p.alpha, p.beta); }
}

@group(0) @binding(1) var<storage, read> ba4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> bb4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> b_out4: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn binary4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = 4u * grid1d_index(gid, groups, WG);
  if (i >= p.count) { return; }
  let o = offsets_of(i);
  let a = quad(ba4[o.y / 4u], o.y, 1u);
  let b = quad(bb4[o.z / 4u], o.z, 2u);
  b_out4[o.x / 4u] = vec4<f32>(binary_op(a.x, b.x, p.alpha, p.beta), binary_op(a.y, b.y, p.alpha, p.beta),
                               binary_op(a.z, b.z, p.alpha, p.beta), binary_op(a.w, b.w, p.alpha, p.beta));
}

// where(cond, a, b): a where cond != 0, else b.
@group(0) @binding(1) var<storage, read> tc: array<f32>;
@group(0) @binding(2) var<storage, read> ta: array<f32>;
@group(0) @binding(3) var<storage, read> tb: array<f32>;
@group(0) @binding(4) var<storage, read_write> t_out: array<f32>;

@compute @workgroup_size(WG)
fn where_select(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = grid1d_index(gid, groups, WG);
  if (i >= p.count) { return; }
  let o = offsets_of(i);
  t_out[o.x] = select(tb[o.w], ta[o.z], tc[o.y] != 0.0);
}
