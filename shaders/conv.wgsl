// 2-D convolution as implicit GEMM, NCHW, grouped, strided, dilated, padded per side: the gathers that compute
// the forward pass, the input gradient and the transposed convolution, and the weight packing they read. The
// weight gradient is shaders/conv-wgrad.wgsl.
//
// Five entry points:
//
//   conv_gather         result[n, g·ROWS + r, q] = act( bias + Σ_{c, ky, kx} W(g, r, c, ky, kx) · S[n, g·CHANS + c, src(q, ky, kx)] )
//                       MODE 0 (forward):    src = q·stride − pad + k·dilation            (S = input, result = output)
//                       MODE 1 (input grad): src = (q + pad − k·dilation) / stride when it
//                                            divides exactly                               (S = output grad, result = input grad)
//                       MODE 1 is also the forward pass of conv_transpose2d, and MODE 0 its input gradient. Any geometry.
//   conv_gather_phased  MODE 1 at stride > 1, one stride phase of the result at a time (no masked taps).
//   conv_gather4        stride 1, widths multiples of 4: runs of adjacent pixels read as aligned vec4.
//   conv_tiled          the same sum on a GPU, both modes, any geometry: a GEMM tiled through workgroup memory.
//   conv_pack_weight    the weight, any strides, as the packed vec4 layout the gathers read.
//
// The gathers read the weight packed by conv_pack_weight as [groups, ⌈CHANS/4⌉, kh·kw, rowsPad] vec4s: one vec4
// holds a row's weights for 4 input channels, whichever of the forward (W[g·ROWS + r, c]) or transposed
// (W[g·CHANS + c, r]) layouts the weight had.
//
// Work split of the gathers (tuned for llvmpipe): a workgroup owns TM rows of one group (TM = 4, 8 or 16, picked
// so that groups of 4–8 channels do not waste rows) and WG_X·4·CV result pixels; an invocation owns 4·CV pixels (a
// register tile of TM rows, shaders/lib/register-tile.wgsl), interleaved with its neighbours' so adjacent lanes
// touch adjacent pixels (conv_gather4: a run of adjacent pixels). The weights are addressed only by workgroup id
// and loop counters, so on a CPU rasteriser (llvmpipe) they are one scalar load for the whole workgroup, and the
// per-lane gathers are amortised over TM rows: TM·4 FMAs per 4 gathered values. conv_tiled (hardware GPUs) is
// described above it.
//
// `p` and `pk`: the uniforms declared in src/kernels/conv.ts, their structs generated from there; ACT and
// activate(): the fused activation, generated from the elementwise op table (src/kernels/elementwise.ts).
#include "lib/register-tile.wgsl"
#include "lib/gemm-tile.wgsl"

@group(0) @binding(1) var<storage, read> S: array<f32>;
@group(0) @binding(1) var<storage, read> S4: array<vec4<f32>>;
// The packed weight (rows zero-padded to a multiple of TM; see src/kernels/conv.ts).
@group(0) @binding(2) var<storage, read> W4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> result: array<f32>;
@group(0) @binding(4) var<storage, read_write> result4: array<vec4<f32>>;

override MODE: u32 = 0u;   // 0 forward gather, 1 input-gradient (transposed) gather
override TM: u32 = 16u;    // rows per workgroup: 4, 8 or 16
override WG_X: u32 = 8u;   // invocations per workgroup (8 = one SIMD vector on llvmpipe)

// The TM rows accumulate the 4 channels in v at one tap; `w4` indexes the packed weight of the first row.
fn accumulate(acc: ptr<function, Tile>, w4: u32, v: ptr<function, Quad>) {
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

// The first of the TM rows that workgroup row `wgy` owns in its group (workgroup y = group · row blocks + block).
fn firstRow(wgy: u32) -> u32 {
  return (wgy % (p.rowsPad / TM)) * TM;
}

// Where the planes of channels 4·c4 … 4·c4 + 3 of S start (from the group's first, sBase). Channels past the
// group's last read its last channel again; their packed weights are zero.
fn channelPlanes(sBase: u32, c4: u32, inPlane: u32) -> array<u32, 4> {
  var plane: array<u32, 4>;
  for (var i = 0u; i < 4u; i++) { plane[i] = sBase + min(c4 * 4u + i, p.chans - 1u) * inPlane; }
  return plane;
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

fn biasOf(channel: u32) -> f32 {
  return select(0.0, bias[min(channel, arrayLength(&bias) - 1u)], p.hasBias != 0u);
}

// The index in the launch's pixel space of lane `lane`'s j-th pixel (j < 4·CV): runs of 4 adjacent pixels,
// interleaved with the neighbouring lanes' runs.
fn lanePixel(first: u32, lane: u32, j: u32) -> u32 {
  return first + ((j / 4u) * WG_X + lane) * 4u + j % 4u;
}

// Writes the scalar gathers' tile: row r of `acc` is result channel g·ROWS + row0 + r, with bias and activation,
// at the lane's pixels q < count. The phased gather (phase = (n, py, px, gw), `phased`) numbers the pixels of one
// stride phase of image n; conv_gather those of the whole batch.
fn storeTile(acc: ptr<function, Tile>, g: u32, row0: u32, first: u32, lane: u32, count: u32, phased: bool, phase: vec4<u32>) {
  let P = p.outH * p.outW;
  for (var r = 0u; r < TM; r++) {
    let row = row0 + r;
    if (row >= p.rows) { break; }
    let values = tileRow(acc, r);
    let b = biasOf(g * p.rows + row);
    for (var j = 0u; j < 4u * CV; j++) {
      let q = lanePixel(first, lane, j);
      if (q >= count) { continue; }
      var image = q / P;
      var pixel = q % P;
      if (phased) {
        image = phase.x;
        pixel = (phase.y + p.strideY * (q / phase.w)) * p.outW + phase.z + p.strideX * (q % phase.w);
      }
      result[((image * p.groups + g) * p.rows + row) * P + pixel] = activate(values[j / 4u] + b, p.alpha)[j % 4u];
    }
  }
}

// Any geometry. An invocation owns 4·CV result pixels, interleaved with its neighbours' in groups of 4. The
// pixels of the whole batch form one index space (x and z of the grid, z only when x would overflow), so a small
// result grid — the deepest layers' 4×4 — still fills every lane instead of one workgroup per image mostly
// computing clamped duplicates.
@compute @workgroup_size(WG_X)
fn conv_gather(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
               @builtin(num_workgroups) groups: vec3<u32>) {
  let g = wg.y / (p.rowsPad / TM);
  let row0 = firstRow(wg.y);
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
    let q = min(lanePixel(first, lid.x, j), total - 1u);
    img[j] = q / P;
    oy[j] = (q % P) / p.outW;
    ox[j] = (q % P) % p.outW;
  }

  var acc: Tile;
  let sBase = g * p.chans * inPlane;
  let chans4 = (p.chans + 3u) / 4u;
  for (var c4 = 0u; c4 < chans4; c4++) {
    var plane = channelPlanes(sBase, c4, inPlane);
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

  storeTile(&acc, g, row0, first, lid.x, total, false, vec4<u32>(0u));
}

// The transposed gather (MODE 1) with stride > 1, split into strideY·strideX phases (iy mod strideY,
// ix mod strideX; dispatch z = batch·phases). Every pixel of a phase is reached by the same taps at a source
// offset the whole workgroup shares, so no tap is computed only to be masked out (¾ of them at stride 2)
// and no lane divides.
@compute @workgroup_size(WG_X)
fn conv_gather_phased(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let g = wg.y / (p.rowsPad / TM);
  let row0 = firstRow(wg.y);
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
    let q = min(lanePixel(first, lid.x, j), count - 1u);
    qy[j] = i32(q / gw);
    qx[j] = i32(q % gw);
  }

  var acc: Tile;
  let sBase = (n * p.groups + g) * p.chans * inPlane;
  let chans4 = (p.chans + 3u) / 4u;
  for (var c4 = 0u; c4 < chans4; c4++) {
    var plane = channelPlanes(sBase, c4, inPlane);
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

  storeTile(&acc, g, row0, first, lid.x, count, true, vec4<u32>(n, py, px, gw));
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
  let g = wg.y / (p.rowsPad / TM);
  let row0 = firstRow(wg.y);
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

  var acc: Tile;
  let sBase = (n * p.groups + g) * p.chans * inPlane;
  let chans4 = (p.chans + 3u) / 4u;
  for (var c4 = 0u; c4 < chans4; c4++) {
    var plane = channelPlanes(sBase, c4, inPlane);
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
    let values = tileRow(&acc, r);
    let b = biasOf(g * p.rows + row);
    for (var cv = 0u; cv < CV; cv++) {
      result4[((outBase + row) * P + oy * p.outW + ox0) / 4u + cv] = activate(values[cv] + b, p.alpha);
    }
  }
}

// ---------------------------------------------------------------------------
// conv_tiled: the GPU kernel (tfjs's conv2d_mm idea: a tiled GEMM whose right-operand loader gathers image
// patches). Per group g the sum is the product of the packed weight, rows × K, with the im2col'd source, K × N:
// K runs over (channel block c4, tap, channel c4·4 + i) — whole vec4 of the packed weight — and N over the result
// pixels of the whole batch. A workgroup computes a TILE_M × 64 block (shaders/lib/gemm-tile.wgsl), staging
// 16 reduction steps at a time: each invocation loads one packed weight vec4 and 256 / TILE_M source values, the
// padding, stride and dilation resolved in that gather (zero outside the source).
//
// MODE 1 at stride s > 1 runs stride phase by stride phase like conv_gather_phased: in phase (py, px) only the taps
// with (py + pad − k·dilation) ≡ 0 (mod s) reach the source — a lattice first + step·j — and they shift the
// phase's pixel grid by a whole number of source pixels, so K holds no masked taps. MODE 0 is one phase, every tap.
//
// Grid: x and y the folded 64-pixel block (grid1d), z = (phase · splits + split) · (groups · row blocks) + block.
// With splits > 1 (a grid too small for the GPU, see src/kernels/conv.ts) piece `split` sums only its chunk4
// packed vec4 of K and writes the raw sums at split · (result size); the host sums the pieces and applies the bias
// and activation. Otherwise the store applies them.

// Taps first + step·j (j < count) of one axis that reach the source in stride phase `phase` (MODE 0: all taps).
fn tapLattice(phase: u32, stride: u32, pad: i32, dil: u32, k: u32) -> vec3<u32> {
  if (MODE == 0u) { return vec3<u32>(0u, 1u, k); }
  // The valid taps repeat every stride / gcd(dil, stride), so the first, if any, is among the first `stride`.
  var first = k;
  for (var t = 0u; t < min(k, stride); t++) {
    if ((i32(phase) + pad - i32(t * dil)) % i32(stride) == 0) { first = t; break; }
  }
  var a = dil;
  var b = stride;
  while (b != 0u) { let r = a % b; a = b; b = r; }
  let step = stride / a;
  return vec3<u32>(first, step, select(0u, (k - 1u - first) / step + 1u, first < k));
}

// What tap k adds to a pixel's source coordinate base (MODE 0: base = o·stride − pad; MODE 1: base = the
// pixel's index in its phase grid).
fn tapShift(k: u32, phase: u32, stride: u32, pad: i32, dil: u32) -> i32 {
  if (MODE == 0u) { return i32(k * dil); }
  return (i32(phase) + pad - i32(k * dil)) / i32(stride);
}

@compute @workgroup_size(16, TILE_M / 4u)
fn conv_tiled(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
              @builtin(local_invocation_index) tid: u32, @builtin(num_workgroups) grid: vec3<u32>) {
  let rowBlocks = p.rowsPad / TILE_M;
  let blocks = p.groups * rowBlocks;
  let g = (wg.z % blocks) / rowBlocks;
  let row0 = (wg.z % rowBlocks) * TILE_M;
  let split = (wg.z / blocks) % p.splits;
  let phase = wg.z / (blocks * p.splits);
  let py = phase / p.strideX;
  let px = phase % p.strideX;
  // The phase's pixel grid, gh × gw: (py + strideY·qy, px + strideX·qx) in MODE 1, the whole result in MODE 0.
  var gh = p.outH;
  var gw = p.outW;
  if (MODE == 1u) {
    gh = (p.outH + p.strideY - 1u - py) / p.strideY;
    gw = (p.outW + p.strideX - 1u - px) / p.strideX;
  }
  let phasePlane = gh * gw;
  let count = p.batch * phasePlane;
  let n0 = (wg.x + wg.y * grid.x) * TILE_N;
  if (n0 >= count) { return; }

  let latY = tapLattice(py, p.strideY, p.padY, p.dilY, p.kh);
  let latX = tapLattice(px, p.strideX, p.padX, p.dilX, p.kw);
  let chans4 = (p.chans + 3u) / 4u;
  let K4 = chans4 * latY.z * latX.z;
  let kBegin = min(split * p.chunk4, K4);
  let kEnd = min(kBegin + p.chunk4, K4);
  let inPlane = p.inH * p.inW;
  let imageStride = p.groups * p.chans * inPlane;

  // The loaders: invocation tid stages packed weight vec4 k4 (reduction steps 4·k4 …) of row m into tileA, and
  // reduction step kb of the tileB slab (channel 4·c4 + kb % 4 at the same k4) for `cols` pixels, lanesN apart.
  let lanesN = TILE_M / 4u;
  let cols = 256u / TILE_M;
  let kb = tid / lanesN;
  let m = tid % TILE_M;
  var colBase: array<u32, 16>;
  var syBase: array<i32, 16>;
  var sxBase: array<i32, 16>;
  var colOk: array<bool, 16>;
  for (var j = 0u; j < cols; j++) {
    let n = n0 + tid % lanesN + lanesN * j;
    colOk[j] = n < count;
    let q = min(n, count - 1u);
    let qy = (q % phasePlane) / gw;
    let qx = q % gw;
    colBase[j] = (q / phasePlane) * imageStride + g * p.chans * inPlane;
    syBase[j] = select(i32(qy), i32(qy * p.strideY) - p.padY, MODE == 0u);
    sxBase[j] = select(i32(qx), i32(qx * p.strideX) - p.padX, MODE == 0u);
  }

  // k4 as digits (channel block, tap row j, tap column j) of the phase's lattices.
  let radix = vec3<u32>(0u, latY.z, latX.z);
  let stageDigits = digits(TK / 4u, radix);
  var k4 = kBegin + kb / 4u;
  var d = digits(k4, radix);
  var block: Block;
  for (var k0 = kBegin; k0 < kEnd; k0 += TK / 4u) {
    let live = k4 < kEnd;
    let ky = latY.x + d.y * latY.y;
    let kx = latX.x + d.z * latX.y;
    let w = W4[((g * chans4 + min(d.x, chans4 - 1u)) * p.kh * p.kw + ky * p.kw + kx) * p.rowsPad + row0 + m];
    let wv = select(vec4<f32>(0.0), w, live);
    for (var i = 0u; i < 4u; i++) { tileA[(kb / 4u) * 4u + i][m / 4u][m % 4u] = wv[i]; }

    let c = d.x * 4u + kb % 4u;
    let chanOk = live && c < p.chans;
    let plane = min(c, p.chans - 1u) * inPlane;
    let dy = tapShift(ky, py, p.strideY, p.padY, p.dilY);
    let dx = tapShift(kx, px, p.strideX, p.padX, p.dilX);
    for (var j = 0u; j < cols; j++) {
      let sy = syBase[j] + dy;
      let sx = sxBase[j] + dx;
      let inside = chanOk && colOk[j] && sy >= 0 && sy < i32(p.inH) && sx >= 0 && sx < i32(p.inW);
      let at = colBase[j] + plane + u32(clamp(sy, 0, i32(p.inH) - 1)) * p.inW + u32(clamp(sx, 0, i32(p.inW) - 1));
      let nl = tid % lanesN + lanesN * j;
      tileB[kb][nl / 4u][nl % 4u] = select(0.0, S[at], inside);
    }
    workgroupBarrier();
    stageFma(&block, lid.x, lid.y);
    workgroupBarrier();
    k4 += TK / 4u;
    d = advance(d, stageDigits, radix);
  }

  let P = p.outH * p.outW;
  let resultSize = p.batch * p.groups * p.rows * P;
  for (var j = 0u; j < 4u; j++) {
    let n = n0 + lid.x * 4u + j;
    if (n >= count) { break; }
    let qy = (n % phasePlane) / gw;
    let qx = n % gw;
    let oy = select(py + p.strideY * qy, qy, MODE == 0u);
    let ox = select(px + p.strideX * qx, qx, MODE == 0u);
    let pixel = (n / phasePlane) * p.groups * p.rows * P + oy * p.outW + ox;
    for (var i = 0u; i < 4u; i++) {
      let row = row0 + lid.y * 4u + i;
      if (row >= p.rows) { break; }
      let at = pixel + (g * p.rows + row) * P;
      if (p.splits == 1u) {
        result[at] = activate(vec4<f32>(block[i][j] + biasOf(g * p.rows + row)), p.alpha).x;
      } else {
        result[split * resultSize + at] = block[i][j];
      }
    }
  }
}

// ---------------------------------------------------------------------------
// conv_pack_weight: a weight [groups, rows, chans, taps] (S's binding; any strides, taps contiguous) as the packed
// [groups, ⌈chans/4⌉, taps, rowsPad] vec4s conv_gather reads, zero past the group's rows and channels, in one
// pass. Workgroup (row block, tap, group·⌈chans/4⌉ + channel block): the only division is by workgroup id, so
// no lane divides (a generic strided copy spent most of its time on per-lane index division on llvmpipe).
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
