// 2-D convolution as implicit GEMM, NCHW, grouped, strided, dilated, padded per side.
//
// Two entry points cover the forward pass, both gradients and the transposed convolution:
//
//   conv_gather  result[n, g·ROWS + r, q] = act( bias + Σ_{c, ky, kx} W(g, r, c, ky, kx) · S[n, g·CHANS + c, src(q, ky, kx)] )
//                MODE 0 (forward):    src = q·stride − pad + k·dilation            (S = input, result = output)
//                MODE 1 (input grad): src = (q + pad − k·dilation) / stride when it
//                                     divides exactly                               (S = output grad, result = input grad)
//                MODE 1 is also the forward pass of conv_transpose2d, and MODE 0 its input gradient.
//   conv_wgrad   partial[z, g·ROWS + r, c, ky, kx] = Σ_{q in split z} D[n, g·ROWS + r, q] · S[n, g·CHANS + c, q·stride − pad + k·dilation]
//                The weight gradient, its reduction over batch and pixels split into pieces (z) that a second
//                pass sums in a fixed order: deterministic, no float atomics.
//
// The weight W is addressed through strides (wGroup, wRow, wChan; taps contiguous), so the forward pass
// (W[g·ROWS + r, c]) and the input gradient (W[g·CHANS + c, r], i.e. transposed per group) read the same
// buffer without a copy.
//
// Work split (both entries): a workgroup owns TM rows of one group (TM = 1..16, picked so that groups of 4–8
// channels do not waste rows) and WG_X·4 result columns; an invocation owns 4 columns (a vec4 accumulator per
// row), interleaved with its neighbours' so adjacent lanes touch adjacent pixels.
// Why this shape: on a CPU rasteriser (llvmpipe) a load whose address differs per lane costs a scalar loop over
// the lanes, while a load whose address is the same for the whole workgroup is one scalar load. The weights
// (conv_gather) and the output gradient (conv_wgrad) are addressed only by workgroup id and loop counters, so
// they are cheap; the per-lane gathers are amortised over TM rows: TM·4 FMAs per 4 gathered values. On a GPU
// the same layout gives coalesced gathers and broadcast weight reads.

struct Params {
  rows: u32,       // result channels per group (ROWS)
  chans: u32,      // reduced channels per group (CHANS)
  groups: u32,
  splits: u32,     // conv_wgrad: pieces per batch item
  outH: u32,       // the result grid (conv_gather) / the grid summed over (conv_wgrad)
  outW: u32,
  inH: u32,        // the grid S is gathered from
  inW: u32,
  kh: u32,
  kw: u32,
  strideY: u32,
  strideX: u32,
  padY: i32,       // top and left padding (bottom/right only shape the output size)
  padX: i32,
  dilY: u32,
  dilX: u32,
  wGroup: u32,     // conv_gather: weight strides in elements
  wRow: u32,
  wChan: u32,
  hasBias: u32,
  alpha: f32,      // LeakyReLU slope
  splitLen: u32,   // conv_wgrad: pixels per piece
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> S: array<f32>;
@group(0) @binding(2) var<storage, read> W: array<f32>;      // conv_wgrad: the output gradient D
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> result: array<f32>;
// conv_wgrad binds only S, D and its partial sums (no bias), so its output sits at binding 3.
@group(0) @binding(3) var<storage, read_write> partial: array<f32>;

override MODE: u32 = 0u;   // 0 forward gather, 1 input-gradient (transposed) gather
override ACT: u32 = 0u;    // 0 none, 1 ReLU, 2 LeakyReLU(alpha)
override TM: u32 = 16u;    // rows per workgroup
override WG_X: u32 = 8u;   // invocations per workgroup (8 = one SIMD vector on llvmpipe)
const MAX_TM = 16u;

// Source coordinate of result coordinate `o` through tap `k` along one axis; -1 when it falls outside
// (padding, or a stride that does not divide in the transposed gather).
fn source(o: u32, k: u32, stride: u32, pad: i32, dil: u32, size: u32) -> i32 {
  if (MODE == 0u) {
    let s = i32(o * stride) - pad + i32(k * dil);
    return select(-1, s, s >= 0 && s < i32(size));
  }
  let num = i32(o) + pad - i32(k * dil);
  let s = num / i32(stride);
  return select(-1, s, num >= 0 && num % i32(stride) == 0 && s < i32(size));
}

fn activate(v: f32) -> f32 {
  if (ACT == 1u) { return max(v, 0.0); }
  if (ACT == 2u) { return select(v * p.alpha, v, v > 0.0); }
  return v;
}

@compute @workgroup_size(WG_X)
fn conv_gather(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let rowBlocks = (p.rows + TM - 1u) / TM;
  let g = wg.y / rowBlocks;
  let row0 = (wg.y % rowBlocks) * TM;
  let n = wg.z;
  let P = p.outH * p.outW;
  let inPlane = p.inH * p.inW;

  // The lane's 4 result pixels, clamped so every load stays in bounds (the store drops the extras).
  var oy: array<u32, 4>;
  var ox: array<u32, 4>;
  var q: array<u32, 4>;
  for (var j = 0u; j < 4u; j++) {
    q[j] = wg.x * WG_X * 4u + j * WG_X + lid.x;
    let qc = min(q[j], P - 1u);
    oy[j] = qc / p.outW;
    ox[j] = qc % p.outW;
  }

  var acc: array<vec4<f32>, MAX_TM>;
  let sBase = (n * p.groups + g) * p.chans * inPlane;
  let wBase = g * p.wGroup;
  for (var c = 0u; c < p.chans; c++) {
    let plane = sBase + c * inPlane;
    let wChan = wBase + c * p.wChan;
    for (var ky = 0u; ky < p.kh; ky++) {
      var sy: array<i32, 4>;
      for (var j = 0u; j < 4u; j++) { sy[j] = source(oy[j], ky, p.strideY, p.padY, p.dilY, p.inH); }
      for (var kx = 0u; kx < p.kw; kx++) {
        var v: vec4<f32>;
        for (var j = 0u; j < 4u; j++) {
          let sx = source(ox[j], kx, p.strideX, p.padX, p.dilX, p.inW);
          let inside = sy[j] >= 0 && sx >= 0;
          let index = plane + u32(max(sy[j], 0)) * p.inW + u32(max(sx, 0));
          v[j] = select(0.0, S[index], inside);
        }
        let tap = wChan + ky * p.kw + kx;
        for (var r = 0u; r < TM; r++) {
          let w = W[tap + min(row0 + r, p.rows - 1u) * p.wRow];
          acc[r] = fma(vec4<f32>(w), v, acc[r]);
        }
      }
    }
  }

  let outBase = (n * p.groups + g) * p.rows;
  for (var r = 0u; r < TM; r++) {
    let row = row0 + r;
    if (row >= p.rows) { break; }
    let b = select(0.0, bias[min(g * p.rows + row, arrayLength(&bias) - 1u)], p.hasBias != 0u);
    for (var j = 0u; j < 4u; j++) {
      if (q[j] < P) { result[(outBase + row) * P + q[j]] = activate(acc[r][j] + b); }
    }
  }
}

// Weight gradient. Result columns are (c, ky, kx) of one group, rows its output channels; the reduction runs
// over the pixels of split z % splits of batch item z / splits. D (binding 2) is the output gradient.
@compute @workgroup_size(WG_X)
fn conv_wgrad(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let rowBlocks = (p.rows + TM - 1u) / TM;
  let g = wg.y / rowBlocks;
  let row0 = (wg.y % rowBlocks) * TM;
  let n = wg.z / p.splits;
  let split = wg.z % p.splits;
  let taps = p.kh * p.kw;
  let cols = p.chans * taps;
  let P = p.outH * p.outW;
  let inPlane = p.inH * p.inW;

  var col: array<u32, 4>;
  var plane: array<u32, 4>;
  var offY: array<i32, 4>;   // ky·dil − pad: the source row is oy·stride + offY
  var offX: array<i32, 4>;
  for (var j = 0u; j < 4u; j++) {
    col[j] = wg.x * WG_X * 4u + j * WG_X + lid.x;
    let cc = min(col[j], cols - 1u);
    let c = cc / taps;
    let t = cc % taps;
    plane[j] = ((n * p.groups + g) * p.chans + c) * inPlane;
    offY[j] = i32((t / p.kw) * p.dilY) - p.padY;
    offX[j] = i32((t % p.kw) * p.dilX) - p.padX;
  }

  var acc: array<vec4<f32>, MAX_TM>;
  let dBase = (n * p.groups + g) * p.rows * P;
  let q0 = split * p.splitLen;
  let q1 = min(q0 + p.splitLen, P);
  var oy = q0 / p.outW;
  var ox = q0 % p.outW;
  for (var q = q0; q < q1; q++) {
    var v: vec4<f32>;
    for (var j = 0u; j < 4u; j++) {
      let sy = i32(oy * p.strideY) + offY[j];
      let sx = i32(ox * p.strideX) + offX[j];
      let inside = sy >= 0 && sy < i32(p.inH) && sx >= 0 && sx < i32(p.inW);
      let index = plane[j] + u32(clamp(sy, 0, i32(p.inH) - 1)) * p.inW + u32(clamp(sx, 0, i32(p.inW) - 1));
      v[j] = select(0.0, S[index], inside);
    }
    for (var r = 0u; r < TM; r++) {
      let d = W[dBase + min(row0 + r, p.rows - 1u) * P + q];
      acc[r] = fma(vec4<f32>(d), v, acc[r]);
    }
    ox++;
    if (ox == p.outW) { ox = 0u; oy++; }
  }

  // partial[z] has the weight's layout: [groups·rows, chans, kh, kw].
  let outBase = wg.z * p.groups * p.rows * cols + g * p.rows * cols;
  for (var r = 0u; r < TM; r++) {
    let row = row0 + r;
    if (row >= p.rows) { break; }
    for (var j = 0u; j < 4u; j++) {
      if (col[j] < cols) { partial[outBase + row * cols + col[j]] = acc[r][j]; }
    }
  }
}
