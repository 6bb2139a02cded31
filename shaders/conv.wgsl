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
  rowsPad: u32,    // conv_gather: rows of the packed weight, a multiple of TM
  hasBias: u32,
  alpha: f32,      // LeakyReLU slope
  splitLen: u32,   // conv_wgrad: pixels per piece
  batch: u32,      // conv_gather: images, whose pixels form one index space
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> S: array<f32>;
@group(0) @binding(1) var<storage, read> S4: array<vec4<f32>>;
// conv_gather: the weight packed as [groups, ⌈CHANS/4⌉, kh·kw, rowsPad] vec4s (4 input channels per vec4, rows
// zero-padded to a multiple of TM; see src/kernels/conv.ts). conv_wgrad: the output gradient D.
@group(0) @binding(2) var<storage, read> W: array<f32>;
@group(0) @binding(2) var<storage, read> W4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> result: array<f32>;
@group(0) @binding(4) var<storage, read_write> result4: array<vec4<f32>>;
// conv_wgrad binds only S, D and its partial sums (no bias), so its output sits at binding 3.
@group(0) @binding(3) var<storage, read_write> partial: array<f32>;

override MODE: u32 = 0u;   // 0 forward gather, 1 input-gradient (transposed) gather
override ACT: u32 = 0u;    // 0 none, 1 ReLU, 2 LeakyReLU(alpha)
override TM: u32 = 16u;    // rows per workgroup: 4, 8 or 16 (conv_wgrad: 1..16)
override CV: u32 = 2u;     // vec4 pixel groups per invocation (conv_gather*), 1..MAX_CV
override WG_X: u32 = 8u;   // invocations per workgroup (8 = one SIMD vector on llvmpipe)
const MAX_TM = 16u;
const MAX_CV = 4u;

// Why the work is shaped this way: on llvmpipe (Mesa 22) nearly every storage load becomes a scalar loop over
// the 8 lanes, while a vec4 FMA is four SIMD instructions, and the 16·CV vec4 accumulators of a lane do not fit
// in registers, so each accumulator update is a stack load and store. Speed therefore comes from (1) FMAs per
// load: weights of 4 input channels per vec4, pixels 4 per vec4 where the geometry allows, every loaded value
// feeding 16 rows or 4·CV pixels; and (2) FMAs per accumulator update: 4 input channels are reduced into an
// accumulator in one chain of 4 FMAs. The 16 accumulator rows are named (not an array indexed in a loop) so
// no dynamic indexing pushes them into scratch memory, whose every access is again a per-lane loop.
alias Row = array<vec4<f32>, MAX_CV>;
alias Quad = array<Row, 4>;   // the lane's pixels for 4 consecutive input channels

// acc += w.x·v[0] + w.y·v[1] + w.z·v[2] + w.w·v[3]  (w: one row's weights for the 4 channels)
fn rowFma(acc: ptr<function, Row>, w: vec4<f32>, v: ptr<function, Quad>) {
  for (var c = 0u; c < CV; c++) {
    var t = (*acc)[c];
    t = fma(vec4<f32>(w.x), (*v)[0][c], t);
    t = fma(vec4<f32>(w.y), (*v)[1][c], t);
    t = fma(vec4<f32>(w.z), (*v)[2][c], t);
    t = fma(vec4<f32>(w.w), (*v)[3][c], t);
    (*acc)[c] = t;
  }
}

struct Acc {
  r0: Row, r1: Row, r2: Row, r3: Row, r4: Row, r5: Row, r6: Row, r7: Row,
  r8: Row, r9: Row, r10: Row, r11: Row, r12: Row, r13: Row, r14: Row, r15: Row,
}

// The TM rows accumulate the 4 channels in v at one tap; `w4` indexes the packed weight of the first row.
fn accumulate(acc: ptr<function, Acc>, w4: u32, v: ptr<function, Quad>) {
  rowFma(&(*acc).r0, W4[w4], v); rowFma(&(*acc).r1, W4[w4 + 1u], v);
  rowFma(&(*acc).r2, W4[w4 + 2u], v); rowFma(&(*acc).r3, W4[w4 + 3u], v);
  if (TM > 4u) {
    rowFma(&(*acc).r4, W4[w4 + 4u], v); rowFma(&(*acc).r5, W4[w4 + 5u], v);
    rowFma(&(*acc).r6, W4[w4 + 6u], v); rowFma(&(*acc).r7, W4[w4 + 7u], v);
  }
  if (TM > 8u) {
    rowFma(&(*acc).r8, W4[w4 + 8u], v); rowFma(&(*acc).r9, W4[w4 + 9u], v);
    rowFma(&(*acc).r10, W4[w4 + 10u], v); rowFma(&(*acc).r11, W4[w4 + 11u], v);
    rowFma(&(*acc).r12, W4[w4 + 12u], v); rowFma(&(*acc).r13, W4[w4 + 13u], v);
    rowFma(&(*acc).r14, W4[w4 + 14u], v); rowFma(&(*acc).r15, W4[w4 + 15u], v);
  }
}

fn accRow(acc: ptr<function, Acc>, r: u32) -> Row {
  switch r {
    case 0u: { return (*acc).r0; } case 1u: { return (*acc).r1; } case 2u: { return (*acc).r2; } case 3u: { return (*acc).r3; }
    case 4u: { return (*acc).r4; } case 5u: { return (*acc).r5; } case 6u: { return (*acc).r6; } case 7u: { return (*acc).r7; }
    case 8u: { return (*acc).r8; } case 9u: { return (*acc).r9; } case 10u: { return (*acc).r10; } case 11u: { return (*acc).r11; }
    case 12u: { return (*acc).r12; } case 13u: { return (*acc).r13; } case 14u: { return (*acc).r14; } default: { return (*acc).r15; }
  }
}

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

fn activate(v: vec4<f32>) -> vec4<f32> {
  if (ACT == 1u) { return max(v, vec4<f32>(0.0)); }
  if (ACT == 2u) { return select(v * p.alpha, v, v > vec4<f32>(0.0)); }
  return v;
}

fn biasOf(channel: u32) -> f32 {
  return select(0.0, bias[min(channel, arrayLength(&bias) - 1u)], p.hasBias != 0u);
}

// Any geometry. An invocation owns 4·CV result pixels, interleaved with its neighbours' in groups of 4. The
// pixels of the whole batch form one index space (x and z of the grid, z only when x would overflow), so a small
// result grid — the deepest layers' 4×4 — still fills every lane instead of one workgroup per image mostly
// computing clamped duplicates.
@compute @workgroup_size(WG_X)
fn conv_gather(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
               @builtin(num_workgroups) groups: vec3<u32>) {
  let rowBlocks = p.rowsPad / TM;
  let g = wg.y / rowBlocks;
  let row0 = (wg.y % rowBlocks) * TM;
  let P = p.outH * p.outW;
  let total = p.batch * P;
  let inPlane = p.inH * p.inW;
  let taps = p.kh * p.kw;
  let imageStride = p.groups * p.chans * inPlane;

  // The lane's pixels (image, y, x), clamped so every load stays in bounds (the store drops the extras).
  var img: array<u32, 16>;
  var oy: array<u32, 16>;
  var ox: array<u32, 16>;
  let first = (wg.x + wg.z * groups.x) * WG_X * 4u * CV;
  for (var j = 0u; j < 4u * CV; j++) {
    let q = min(first + ((j / 4u) * WG_X + lid.x) * 4u + j % 4u, total - 1u);
    img[j] = q / P;
    oy[j] = (q % P) / p.outW;
    ox[j] = (q % P) % p.outW;
  }

  var acc: Acc;
  let sBase = g * p.chans * inPlane;
  let chans4 = (p.chans + 3u) / 4u;
  for (var c4 = 0u; c4 < chans4; c4++) {
    // Channels past the group's last read its last channel again; their packed weights are zero.
    var plane: array<u32, 4>;
    for (var i = 0u; i < 4u; i++) { plane[i] = sBase + min(c4 * 4u + i, p.chans - 1u) * inPlane; }
    let wc = (g * chans4 + c4) * taps * p.rowsPad + row0;
    for (var ky = 0u; ky < p.kh; ky++) {
      var sy: array<i32, 16>;
      for (var j = 0u; j < 4u * CV; j++) { sy[j] = source(oy[j], ky, p.strideY, p.padY, p.dilY, p.inH); }
      for (var kx = 0u; kx < p.kw; kx++) {
        var v: Quad;
        for (var j = 0u; j < 4u * CV; j++) {
          let sx = source(ox[j], kx, p.strideX, p.padX, p.dilX, p.inW);
          let inside = sy[j] >= 0 && sx >= 0;
          let offset = img[j] * imageStride + u32(max(sy[j], 0)) * p.inW + u32(max(sx, 0));
          for (var i = 0u; i < 4u; i++) { v[i][j / 4u][j % 4u] = select(0.0, S[plane[i] + offset], inside); }
        }
        accumulate(&acc, wc + (ky * p.kw + kx) * p.rowsPad, &v);
      }
    }
  }

  for (var r = 0u; r < TM; r++) {
    let row = row0 + r;
    if (row >= p.rows) { break; }
    let values = accRow(&acc, r);
    let b = biasOf(g * p.rows + row);
    for (var cv = 0u; cv < CV; cv++) {
      let y = activate(values[cv] + b);
      for (var i = 0u; i < 4u; i++) {
        let q = first + (cv * WG_X + lid.x) * 4u + i;
        if (q < total) { result[((q / P) * p.groups + g) * p.rows * P + row * P + q % P] = y[i]; }
      }
    }
  }
}

// The transposed gather (MODE 1) with stride > 1, split into strideY·strideX phases (iy mod strideY,
// ix mod strideX; dispatch z = batch·phases). Every pixel of a phase is reached by the same taps at a source
// offset the whole workgroup shares, so no tap is computed only to be masked out (¾ of them at stride 2)
// and no lane divides.
@compute @workgroup_size(WG_X)
fn conv_gather_phased(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let rowBlocks = p.rowsPad / TM;
  let g = wg.y / rowBlocks;
  let row0 = (wg.y % rowBlocks) * TM;
  let phases = p.strideY * p.strideX;
  let n = wg.z / phases;
  let py = (wg.z % phases) / p.strideX;
  let px = (wg.z % phases) % p.strideX;
  // The phase's pixels are (py + strideY·qy, px + strideX·qx) for qy < gh, qx < gw.
  let gh = (p.outH + p.strideY - 1u - py) / p.strideY;
  let gw = (p.outW + p.strideX - 1u - px) / p.strideX;
  let count = gh * gw;
  if (count == 0u) { return; }
  let inPlane = p.inH * p.inW;
  let taps = p.kh * p.kw;

  var qy: array<i32, 16>;
  var qx: array<i32, 16>;
  let first = wg.x * WG_X * 4u * CV;
  for (var j = 0u; j < 4u * CV; j++) {
    let q = min(first + ((j / 4u) * WG_X + lid.x) * 4u + j % 4u, count - 1u);
    qy[j] = i32(q / gw);
    qx[j] = i32(q % gw);
  }

  var acc: Acc;
  let sBase = (n * p.groups + g) * p.chans * inPlane;
  let chans4 = (p.chans + 3u) / 4u;
  for (var c4 = 0u; c4 < chans4; c4++) {
    var plane: array<u32, 4>;
    for (var i = 0u; i < 4u; i++) { plane[i] = sBase + min(c4 * 4u + i, p.chans - 1u) * inPlane; }
    let wc = (g * chans4 + c4) * taps * p.rowsPad + row0;
    for (var ky = 0u; ky < p.kh; ky++) {
      let numY = i32(py) + p.padY - i32(ky * p.dilY);
      if (numY % i32(p.strideY) != 0) { continue; }
      let shiftY = numY / i32(p.strideY);
      for (var kx = 0u; kx < p.kw; kx++) {
        let numX = i32(px) + p.padX - i32(kx * p.dilX);
        if (numX % i32(p.strideX) != 0) { continue; }
        let shiftX = numX / i32(p.strideX);
        var v: Quad;
        for (var j = 0u; j < 4u * CV; j++) {
          let sy = qy[j] + shiftY;
          let sx = qx[j] + shiftX;
          let inside = sy >= 0 && sy < i32(p.inH) && sx >= 0 && sx < i32(p.inW);
          let offset = u32(clamp(sy, 0, i32(p.inH) - 1)) * p.inW + u32(clamp(sx, 0, i32(p.inW) - 1));
          for (var i = 0u; i < 4u; i++) { v[i][j / 4u][j % 4u] = select(0.0, S[plane[i] + offset], inside); }
        }
        accumulate(&acc, wc + (ky * p.kw + kx) * p.rowsPad, &v);
      }
    }
  }

  let P = p.outH * p.outW;
  let outBase = (n * p.groups + g) * p.rows;
  for (var r = 0u; r < TM; r++) {
    let row = row0 + r;
    if (row >= p.rows) { break; }
    let values = accRow(&acc, r);
    let b = biasOf(g * p.rows + row);
    for (var cv = 0u; cv < CV; cv++) {
      let y = activate(values[cv] + b);
      for (var i = 0u; i < 4u; i++) {
        let q = first + (cv * WG_X + lid.x) * 4u + i;
        if (q < count) {
          let iy = py + p.strideY * (q / gw);
          let ix = px + p.strideX * (q % gw);
          result[(outBase + row) * P + iy * p.outW + ix] = y[i];
        }
      }
    }
  }
}

// v = the 4 values starting `shift` elements into a (continuing into b).
fn shifted(a: vec4<f32>, b: vec4<f32>, shift: u32) -> vec4<f32> {
  switch shift {
    case 0u: { return a; }
    case 1u: { return vec4<f32>(a.yzw, b.x); }
    case 2u: { return vec4<f32>(a.zw, b.xy); }
    default: { return vec4<f32>(a.w, b.xyz); }
  }
}

// Stride 1, widths multiples of 4·CV (result) and 4 (source): an invocation owns a run of 4·CV adjacent pixels
// of one result row, whose sources through a tap are 4·CV adjacent values of one source row, read as CV + 1
// aligned vec4 and shifted (the shift depends on the tap only). Padding is a per-component mask.
@compute @workgroup_size(WG_X)
fn conv_gather4(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let rowBlocks = p.rowsPad / TM;
  let g = wg.y / rowBlocks;
  let row0 = (wg.y % rowBlocks) * TM;
  let n = wg.z;
  let runsPerRow = p.outW / (4u * CV);
  let runs = p.outH * runsPerRow;
  let run = min(wg.x * WG_X + lid.x, runs - 1u);
  let oy = run / runsPerRow;
  let ox0 = (run % runsPerRow) * 4u * CV;
  let inPlane = p.inH * p.inW;
  let taps = p.kh * p.kw;
  // Tap k moves the source by dir·k·dil − dir·pad (dir = +1 forward, −1 for the transposed gather).
  let dir = select(-1, 1, MODE == 0u);

  var acc: Acc;
  let sBase = (n * p.groups + g) * p.chans * inPlane;
  let chans4 = (p.chans + 3u) / 4u;
  for (var c4 = 0u; c4 < chans4; c4++) {
    var plane: array<u32, 4>;
    for (var i = 0u; i < 4u; i++) { plane[i] = sBase + min(c4 * 4u + i, p.chans - 1u) * inPlane; }
    let wc = (g * chans4 + c4) * taps * p.rowsPad + row0;
    for (var ky = 0u; ky < p.kh; ky++) {
      let sy = i32(oy) + dir * (i32(ky * p.dilY) - p.padY);
      let rowInside = sy >= 0 && sy < i32(p.inH);
      let rowOffset = u32(clamp(sy, 0, i32(p.inH) - 1)) * p.inW;
      for (var kx = 0u; kx < p.kw; kx++) {
        let offset = dir * (i32(kx * p.dilX) - p.padX);
        let sx0 = i32(ox0) + offset;
        let shift = u32(((offset % 4) + 4) % 4);
        let aligned = sx0 - i32(shift);
        var inside: array<vec4<bool>, MAX_CV>;
        var at: array<u32, 5>;
        for (var i = 0u; i <= CV; i++) { at[i] = u32(clamp(aligned + 4 * i32(i), 0, i32(p.inW) - 4)) / 4u; }
        for (var cv = 0u; cv < CV; cv++) {
          let xs = vec4<i32>(sx0 + 4 * i32(cv)) + vec4<i32>(0, 1, 2, 3);
          inside[cv] = (xs >= vec4<i32>(0)) & (xs < vec4<i32>(i32(p.inW))) & vec4<bool>(rowInside);
        }
        var v: Quad;
        for (var i = 0u; i < 4u; i++) {
          let row4 = (plane[i] + rowOffset) / 4u;
          var q: array<vec4<f32>, 5>;
          for (var k = 0u; k <= CV; k++) { q[k] = S4[row4 + at[k]]; }
          for (var cv = 0u; cv < CV; cv++) {
            v[i][cv] = select(vec4<f32>(0.0), shifted(q[cv], q[cv + 1u], shift), inside[cv]);
          }
        }
        accumulate(&acc, wc + (ky * p.kw + kx) * p.rowsPad, &v);
      }
    }
  }

  if (wg.x * WG_X + lid.x >= runs) { return; }
  let P = p.outH * p.outW;
  let outBase = (n * p.groups + g) * p.rows;
  for (var r = 0u; r < TM; r++) {
    let row = row0 + r;
    if (row >= p.rows) { break; }
    let values = accRow(&acc, r);
    let b = biasOf(g * p.rows + row);
    for (var cv = 0u; cv < CV; cv++) {
      result4[((outBase + row) * P + oy * p.outW + ox0) / 4u + cv] = activate(values[cv] + b);
    }
  }
}

// Weight gradient. Result columns are (c, ky, kx) of one group, rows its output channels; the reduction runs
// over the pixels of split z % splits of batch item z / splits. D (binding 2) is the output gradient.
// Pixels go 4 at a time so each accumulator takes a chain of 4 FMAs per update, and D is read as a vec4 of
// 4 pixels (D4: when the plane size is a multiple of 4, which keeps those loads aligned).
override D4: bool = false;
// The same output gradient as W, bound a second time as vec4s: one entry point may not use two views of one
// binding, even in a branch the override removes.
@group(0) @binding(4) var<storage, read> D4view: array<vec4<f32>>;

struct AccW {
  r0: vec4<f32>, r1: vec4<f32>, r2: vec4<f32>, r3: vec4<f32>, r4: vec4<f32>, r5: vec4<f32>, r6: vec4<f32>, r7: vec4<f32>,
  r8: vec4<f32>, r9: vec4<f32>, r10: vec4<f32>, r11: vec4<f32>, r12: vec4<f32>, r13: vec4<f32>, r14: vec4<f32>, r15: vec4<f32>,
}

// acc (4 columns of row r) += Σ_k D[row r, pixel q + k] · s[k]  (s[k]: the 4 columns' sources at pixel q + k)
fn wgradRow(acc: ptr<function, vec4<f32>>, dRow: u32, q: u32, qLast: u32, s: ptr<function, array<vec4<f32>, 4>>) {
  var d: vec4<f32>;
  if (D4) {
    d = D4view[(dRow + q) / 4u];
  } else {
    d = vec4<f32>(W[dRow + q], W[dRow + min(q + 1u, qLast)], W[dRow + min(q + 2u, qLast)], W[dRow + min(q + 3u, qLast)]);
  }
  var t = *acc;
  t = fma(vec4<f32>(d.x), (*s)[0], t);
  t = fma(vec4<f32>(d.y), (*s)[1], t);
  t = fma(vec4<f32>(d.z), (*s)[2], t);
  t = fma(vec4<f32>(d.w), (*s)[3], t);
  *acc = t;
}

fn accWRow(acc: ptr<function, AccW>, r: u32) -> vec4<f32> {
  switch r {
    case 0u: { return (*acc).r0; } case 1u: { return (*acc).r1; } case 2u: { return (*acc).r2; } case 3u: { return (*acc).r3; }
    case 4u: { return (*acc).r4; } case 5u: { return (*acc).r5; } case 6u: { return (*acc).r6; } case 7u: { return (*acc).r7; }
    case 8u: { return (*acc).r8; } case 9u: { return (*acc).r9; } case 10u: { return (*acc).r10; } case 11u: { return (*acc).r11; }
    case 12u: { return (*acc).r12; } case 13u: { return (*acc).r13; } case 14u: { return (*acc).r14; } default: { return (*acc).r15; }
  }
}

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

  // D rows of this workgroup (clamped: rows past the group's recompute its last and are not stored).
  let dBase = (n * p.groups + g) * p.rows;
  var dRow: array<u32, 16>;
  for (var r = 0u; r < 16u; r++) { dRow[r] = (dBase + min(row0 + r, p.rows - 1u)) * P; }

  var acc: AccW;
  let q0 = split * p.splitLen;
  let q1 = min(q0 + p.splitLen, P);
  var oy = q0 / p.outW;
  var ox = q0 % p.outW;
  for (var q = q0; q < q1; q += 4u) {
    var s: array<vec4<f32>, 4>;
    for (var k = 0u; k < 4u; k++) {
      let live = q + k < q1;
      for (var j = 0u; j < 4u; j++) {
        let sy = i32(oy * p.strideY) + offY[j];
        let sx = i32(ox * p.strideX) + offX[j];
        let inside = live && sy >= 0 && sy < i32(p.inH) && sx >= 0 && sx < i32(p.inW);
        let index = plane[j] + u32(clamp(sy, 0, i32(p.inH) - 1)) * p.inW + u32(clamp(sx, 0, i32(p.inW) - 1));
        s[k][j] = select(0.0, S[index], inside);
      }
      ox++;
      if (ox == p.outW) { ox = 0u; oy++; }
    }
    let last = q1 - 1u;
    wgradRow(&acc.r0, dRow[0], q, last, &s);
    if (TM > 1u) { wgradRow(&acc.r1, dRow[1], q, last, &s); }
    if (TM > 2u) { wgradRow(&acc.r2, dRow[2], q, last, &s); wgradRow(&acc.r3, dRow[3], q, last, &s); }
    if (TM > 4u) {
      wgradRow(&acc.r4, dRow[4], q, last, &s); wgradRow(&acc.r5, dRow[5], q, last, &s);
      wgradRow(&acc.r6, dRow[6], q, last, &s); wgradRow(&acc.r7, dRow[7], q, last, &s);
    }
    if (TM > 8u) {
      wgradRow(&acc.r8, dRow[8], q, last, &s); wgradRow(&acc.r9, dRow[9], q, last, &s);
      wgradRow(&acc.r10, dRow[10], q, last, &s); wgradRow(&acc.r11, dRow[11], q, last, &s);
      wgradRow(&acc.r12, dRow[12], q, last, &s); wgradRow(&acc.r13, dRow[13], q, last, &s);
      wgradRow(&acc.r14, dRow[14], q, last, &s); wgradRow(&acc.r15, dRow[15], q, last, &s);
    }
  }

  // partial[z] has the weight's layout: [groups·rows, chans, kh, kw].
  let outBase = wg.z * p.groups * p.rows * cols + g * p.rows * cols;
  for (var r = 0u; r < TM; r++) {
    let row = row0 + r;
    if (row >= p.rows) { break; }
    let values = accWRow(&acc, r);
    for (var j = 0u; j < 4u; j++) {
      if (col[j] < cols) { partial[outBase + row * cols + col[j]] = values[j]; }
    }
  }
}

// ---------------------------------------------------------------------------
// conv_pack_weight: a weight [groups, rows, chans, taps] (S's binding; any strides, taps contiguous) as the packed
// [groups, ⌈chans/4⌉, taps, rowsPad] vec4s conv_gather reads, zero past the group's rows and channels, in one
// pass. Workgroup (row block, tap, group·⌈chans/4⌉ + channel block): the only division is by workgroup id, so
// no lane divides (a generic strided copy spent most of its time on per-lane index division on llvmpipe).
struct PackParams {
  rows: u32,
  chans: u32,
  chans4: u32,        // ⌈chans / 4⌉
  rowsPad: u32,
  taps: u32,
  strideGroup: u32,   // weight strides in elements (taps are contiguous)
  strideChan: u32,
  strideRow: u32,
  offset: u32,
}

@group(0) @binding(0) var<uniform> pk: PackParams;
@group(0) @binding(2) var<storage, read_write> packedOut: array<vec4<f32>>;

@compute @workgroup_size(WG_X)
fn conv_pack_weight(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let r = wg.x * WG_X + lid.x;
  if (r >= pk.rowsPad) { return; }
  let t = wg.y;
  let g = wg.z / pk.chans4;
  let cb = wg.z % pk.chans4;
  var v = vec4<f32>(0.0);
  if (r < pk.rows) {
    let base = pk.offset + g * pk.strideGroup + r * pk.strideRow + t;
    for (var j = 0u; j < 4u; j++) {
      let c = cb * 4u + j;
      if (c < pk.chans) { v[j] = S[base + c * pk.strideChan]; }
    }
  }
  packedOut[(wg.z * pk.taps + t) * pk.rowsPad + r] = v;
}
