// Elementwise kernels over strided views. Every operand (output included) is addressed through its own strides
// over the output's shape, so one kernel serves contiguous tensors, broadcasting (stride 0), permuted views,
// and writes into a slice of a larger tensor (concat, pad). The host collapses mergeable dimensions first, so
// the common contiguous case runs with rank 1.
//
// OP selects the function (codes match src/kernels/elementwise.ts); the compiler folds the switch away.
override OP: u32 = 0u;

struct Params {
  count: u32,                    // output elements
  rank: u32,                     // dims in use (≤ 8)
  alpha: f32,                    // scalar parameters of the op (slope, clamp bounds, affine scale/shift, fill value)
  beta: f32,
  shape: array<vec4<u32>, 2>,    // output shape, outermost first
  strides: array<vec4<u32>, 8>,  // per dim d: strides[d] = (out, a, b, c) strides in elements
  offsets: vec4<u32>,            // first element of out, a, b, c
}

@group(0) @binding(0) var<uniform> p: Params;

const WG: u32 = 256u;

fn linear_index(gid: vec3<u32>, groups: vec3<u32>) -> u32 {
  return gid.x + gid.y * groups.x * WG;
}

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

fn unary_op(x: f32) -> f32 {
  switch OP {
    case 0u: { return x; }                                        // copy
    case 1u: { return -x; }                                       // neg
    case 2u: { return abs(x); }                                   // abs
    case 3u: { return exp(x); }                                   // exp
    case 4u: { return log(x); }                                   // log
    case 5u: { return sqrt(x); }                                  // sqrt
    case 6u: { return max(x, 0.0); }                              // relu
    case 7u: { return select(x * p.alpha, x, x > 0.0); }          // leaky relu, slope alpha
    case 8u: { return 1.0 / (1.0 + exp(-x)); }                    // sigmoid
    // tanh saturates to ±1 in f32 beyond |x| 9; clamping avoids inf/inf = NaN in exp-based implementations.
    case 9u: { return tanh(clamp(x, -15.0, 15.0)); }              // tanh
    case 10u: { return clamp(x, p.alpha, p.beta); }               // clamp [alpha, beta]
    case 11u: { return sign(x); }                                 // sign
    case 12u: { return x * p.alpha + p.beta; }                    // affine
    default: { return x; }
  }
}

// x^y with the real-valued conventions of PyTorch: integer exponents work for negative bases, x^0 = 1.
fn power(x: f32, y: f32) -> f32 {
  if (y == 0.0) { return 1.0; }
  if (x >= 0.0) { return pow(x, y); }
  if (y != floor(y)) { return pow(x, y); }                      // negative base, fractional exponent: NaN
  let m = pow(-x, y);
  return select(m, -m, fract(y * 0.5) != 0.0);
}

fn binary_op(a: f32, b: f32) -> f32 {
  switch OP {
    case 0u: { return a + b; }
    case 1u: { return a - b; }
    case 2u: { return a * b; }
    case 3u: { return a / b; }
    case 4u: { return power(a, b); }
    case 5u: { return min(a, b); }
    case 6u: { return max(a, b); }
    case 7u: { return select(0.0, 1.0, a == b); }
    case 8u: { return select(0.0, 1.0, a != b); }
    case 9u: { return select(0.0, 1.0, a < b); }
    case 10u: { return select(0.0, 1.0, a <= b); }
    case 11u: { return select(0.0, 1.0, a > b); }
    case 12u: { return select(0.0, 1.0, a >= b); }
    // Gradients that need only the upstream gradient a and the op's output b (memory-lean saves).
    case 13u: { return select(0.0, a, b > 0.0); }                 // relu'
    case 14u: { return select(a * p.alpha, a, b > 0.0); }         // leaky relu' (slope > 0: y > 0 iff x > 0)
    case 15u: { return a * b * (1.0 - b); }                       // sigmoid'
    case 16u: { return a * (1.0 - b * b); }                       // tanh'
    default: { return a; }
  }
}

@group(0) @binding(1) var<storage, read_write> fill_out: array<f32>;

@compute @workgroup_size(WG)
fn fill(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linear_index(gid, groups);
  if (i >= p.count) { return; }
  fill_out[offsets_of(i).x] = p.alpha;
}

@group(0) @binding(1) var<storage, read> ua: array<f32>;
@group(0) @binding(2) var<storage, read_write> u_out: array<f32>;

@compute @workgroup_size(WG)
fn unary(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linear_index(gid, groups);
  if (i >= p.count) { return; }
  let o = offsets_of(i);
  u_out[o.x] = unary_op(ua[o.y]);
}

@group(0) @binding(1) var<storage, read> ba: array<f32>;
@group(0) @binding(2) var<storage, read> bb: array<f32>;
@group(0) @binding(3) var<storage, read_write> b_out: array<f32>;

@compute @workgroup_size(WG)
fn binary(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linear_index(gid, groups);
  if (i >= p.count) { return; }
  let o = offsets_of(i);
  b_out[o.x] = binary_op(ba[o.y], bb[o.z]);
}

// where(cond, a, b): a where cond != 0, else b.
@group(0) @binding(1) var<storage, read> tc: array<f32>;
@group(0) @binding(2) var<storage, read> ta: array<f32>;
@group(0) @binding(3) var<storage, read> tb: array<f32>;
@group(0) @binding(4) var<storage, read_write> t_out: array<f32>;

@compute @workgroup_size(WG)
fn where_select(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linear_index(gid, groups);
  if (i >= p.count) { return; }
  let o = offsets_of(i);
  t_out[o.x] = select(tb[o.w], ta[o.z], tc[o.y] != 0.0);
}
