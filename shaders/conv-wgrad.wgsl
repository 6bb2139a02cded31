// The weight gradient of a 2-D convolution (NCHW, grouped, strided, dilated, padded per side; conv2d's and,
// with the roles of input and output swapped, conv_transpose2d's):
//
//   conv_wgrad        partial[z, g·ROWS + r, c, ky, kx] = Σ_{q in split z} D[n, g·ROWS + r, q] · S[n, g·CHANS + c, q·stride − pad + k·dilation]
//   conv_wgrad_tiled  the same on a GPU, through workgroup memory; its pieces z split the whole batch's pixels.
//
// Result columns are (c, ky, kx) of one group, rows its output channels; the reduction over batch and pixels is
// split into pieces (conv_wgrad: z = n·splits + split) that a second pass (the reduction kernel) sums in a fixed
// order: deterministic, no float atomics.
//
// Work split of conv_wgrad (tuned for llvmpipe): a workgroup owns TM rows of one group (TM = 1..16: the smallest power of two ≥ the group's rows)
// and WG_X·4 columns; an invocation owns 4 columns, interleaved with its neighbours'. The accumulator is the
// register tile of shaders/lib/register-tile.wgsl with CV = 1 (one vec4 of 4 columns per row), and the reduction
// steps of its FMA chains are 4 consecutive pixels: D is read 4 pixels at a time (as one vec4 when D4), and the
// sources of the invocation's 4 columns at those pixels form the Quad. D is addressed only by workgroup id and
// loop counters, so on a CPU rasteriser it is one scalar load for the whole workgroup.
//
// conv_wgrad_tiled, the same sum on a GPU, is described above it.
//
// `p`: the uniforms declared in src/kernels/conv.ts (ConvWgradParams), their struct generated from there.
#include "lib/register-tile.wgsl"
#include "lib/gemm-tile.wgsl"

@group(0) @binding(1) var<storage, read> S: array<f32>;
@group(0) @binding(2) var<storage, read> D: array<f32>;
@group(0) @binding(3) var<storage, read_write> partial: array<f32>;
// The same output gradient as D, bound a second time as vec4s: one entry point may not use two views of one
// binding, even in a branch an override removes.
@group(0) @binding(4) var<storage, read> D4view: array<vec4<f32>>;

override TM: u32 = 16u;    // rows per workgroup: 1, 2, 4, 8 or 16
override WG_X: u32 = 8u;   // invocations per workgroup (8 = one SIMD vector on llvmpipe)
override D4: bool = false; // the plane size is a multiple of 4, so D's 4-pixel loads are aligned vec4s

// D at pixels q … q+3 of the row starting at dRow (pixels past qLast repeat it; their sources are zero).
fn dPixels(dRow: u32, q: u32, qLast: u32) -> vec4<f32> {
  if (D4) { return D4view[(dRow + q) / 4u]; }
  return vec4<f32>(D[dRow + q], D[dRow + min(q + 1u, qLast)], D[dRow + min(q + 2u, qLast)], D[dRow + min(q + 3u, qLast)]);
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

  var acc: Tile;
  let q0 = split * p.splitLen;
  let q1 = min(q0 + p.splitLen, P);
  var oy = q0 / p.outW;
  var ox = q0 % p.outW;
  for (var q = q0; q < q1; q += 4u) {
    var s: Quad;
    for (var k = 0u; k < 4u; k++) {
      let live = q + k < q1;
      for (var j = 0u; j < 4u; j++) {
        let sy = i32(oy * p.strideY) + offY[j];
        let sx = i32(ox * p.strideX) + offX[j];
        let inside = live && sy >= 0 && sy < i32(p.inH) && sx >= 0 && sx < i32(p.inW);
        let index = plane[j] + u32(clamp(sy, 0, i32(p.inH) - 1)) * p.inW + u32(clamp(sx, 0, i32(p.inW) - 1));
        s[k][0][j] = select(0.0, S[index], inside);
      }
      ox++;
      if (ox == p.outW) { ox = 0u; oy++; }
    }
    let last = q1 - 1u;
    rowFma(&acc.r0, dPixels(dRow[0], q, last), &s);
    if (TM > 1u) { rowFma(&acc.r1, dPixels(dRow[1], q, last), &s); }
    if (TM > 2u) { rowFma(&acc.r2, dPixels(dRow[2], q, last), &s); rowFma(&acc.r3, dPixels(dRow[3], q, last), &s); }
    if (TM > 4u) {
      rowFma(&acc.r4, dPixels(dRow[4], q, last), &s); rowFma(&acc.r5, dPixels(dRow[5], q, last), &s);
      rowFma(&acc.r6, dPixels(dRow[6], q, last), &s); rowFma(&acc.r7, dPixels(dRow[7], q, last), &s);
    }
    if (TM > 8u) {
      rowFma(&acc.r8, dPixels(dRow[8], q, last), &s); rowFma(&acc.r9, dPixels(dRow[9], q, last), &s);
      rowFma(&acc.r10, dPixels(dRow[10], q, last), &s); rowFma(&acc.r11, dPixels(dRow[11], q, last), &s);
      rowFma(&acc.r12, dPixels(dRow[12], q, last), &s); rowFma(&acc.r13, dPixels(dRow[13], q, last), &s);
      rowFma(&acc.r14, dPixels(dRow[14], q, last), &s); rowFma(&acc.r15, dPixels(dRow[15], q, last), &s);
    }
  }

  // partial[z] has the weight's layout: [groups·rows, chans, kh, kw].
  let outBase = wg.z * p.groups * p.rows * cols + g * p.rows * cols;
  for (var r = 0u; r < TM; r++) {
    let row = row0 + r;
    if (row >= p.rows) { break; }
    let values = tileRow(&acc, r)[0];
    for (var j = 0u; j < 4u; j++) {
      if (col[j] < cols) { partial[outBase + row * cols + col[j]] = values[j]; }
    }
  }
}

// ---------------------------------------------------------------------------
// conv_wgrad_tiled: per group g the product of D (ROWS × K) with the im2col'd source (K × CHANS·taps), K running
// over the pixels of the whole batch, tiled through workgroup memory (shaders/lib/gemm-tile.wgsl): a workgroup
// computes TILE_M rows × 64 columns of one group over its piece of K (z = piece, splitLen pixels), 16 pixels a
// stage. Invocation tid loads stage pixel tid % 16 of 4 rows into tileA and of 256 / TILE_M columns into tileB, so
// adjacent lanes read adjacent pixels of D and of S. Grid: (column blocks, groups · row blocks, pieces).
@compute @workgroup_size(16, TILE_M / 4u)
fn conv_wgrad_tiled(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
                    @builtin(local_invocation_index) tid: u32) {
  let rowBlocks = (p.rows + TILE_M - 1u) / TILE_M;
  let g = wg.y / rowBlocks;
  let row0 = (wg.y % rowBlocks) * TILE_M;
  let col0 = wg.x * TILE_N;
  let taps = p.kh * p.kw;
  let cols = p.chans * taps;
  let P = p.outH * p.outW;
  let inPlane = p.inH * p.inW;
  let kBegin = min(wg.z * p.splitLen, p.batch * P);
  let kEnd = min(kBegin + p.splitLen, p.batch * P);

  let step = tid % TK;
  let lanes = TILE_M / 4u;
  let colsPer = 256u / TILE_M;
  var dRow: array<u32, 4>;
  var rowOk: array<bool, 4>;
  for (var i = 0u; i < 4u; i++) {
    let r = row0 + tid / TK + lanes * i;
    rowOk[i] = r < p.rows;
    dRow[i] = (g * p.rows + min(r, p.rows - 1u)) * P;
  }
  var colPlane: array<u32, 16>;
  var offY: array<i32, 16>;   // ky·dil − pad: the source row is oy·stride + offY
  var offX: array<i32, 16>;
  var colOk: array<bool, 16>;
  for (var j = 0u; j < colsPer; j++) {
    let col = col0 + tid / TK + lanes * j;
    colOk[j] = col < cols;
    let cc = min(col, cols - 1u);
    let t = cc % taps;
    colPlane[j] = (g * p.chans + cc / taps) * inPlane;
    offY[j] = i32((t / p.kw) * p.dilY) - p.padY;
    offX[j] = i32((t % p.kw) * p.dilX) - p.padX;
  }

  // The invocation's pixel as digits (image, oy, ox).
  let radix = vec3<u32>(0u, p.outH, p.outW);
  let stageDigits = digits(TK, radix);
  var q = kBegin + step;
  var d = digits(q, radix);
  var block: Block;
  for (var k0 = kBegin; k0 < kEnd; k0 += TK) {
    let live = q < kEnd;
    let n = min(d.x, p.batch - 1u);
    let dImage = n * p.groups * p.rows * P + d.y * p.outW + d.z;
    for (var i = 0u; i < 4u; i++) {
      let r = tid / TK + lanes * i;
      tileA[step][r / 4u][r % 4u] = select(0.0, D[dImage + dRow[i]], live && rowOk[i]);
    }
    let sImage = n * p.groups * p.chans * inPlane;
    let oy = i32(d.y * p.strideY);
    let ox = i32(d.z * p.strideX);
    for (var j = 0u; j < colsPer; j++) {
      let sy = oy + offY[j];
      let sx = ox + offX[j];
      let inside = live && colOk[j] && sy >= 0 && sy < i32(p.inH) && sx >= 0 && sx < i32(p.inW);
      let at = sImage + colPlane[j] + u32(clamp(sy, 0, i32(p.inH) - 1)) * p.inW + u32(clamp(sx, 0, i32(p.inW) - 1));
      let cl = tid / TK + lanes * j;
      tileB[step][cl / 4u][cl % 4u] = select(0.0, S[at], inside);
    }
    workgroupBarrier();
    stageFma(&block, lid.x, lid.y);
    workgroupBarrier();
    q += TK;
    d = advance(d, stageDigits, radix);
  }

  // partial[z] has the weight's layout: [groups·rows, chans, kh, kw].
  let outBase = (wg.z * p.groups + g) * p.rows * cols;
  for (var i = 0u; i < 4u; i++) {
    let row = row0 + lid.y * 4u + i;
    if (row >= p.rows) { break; }
    for (var j = 0u; j < 4u; j++) {
      let col = col0 + lid.x * 4u + j;
      if (col < cols) { partial[outBase + row * cols + col] = block[i][j]; }
    }
  }
}
