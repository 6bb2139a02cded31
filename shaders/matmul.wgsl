// Batched f32 matmul:  C[b] = op(A[b]) @ op(B[b])   for b in [0, batch)
//
//   op(A) is logical [M,K]; stored row-major [M,K], or [K,M] when TRANS_A.
//   op(B) is logical [K,N]; stored row-major [K,N], or [N,K] when TRANS_B.
//   C is [M,N] row-major.  Batch b reads A at b*strideA, B at b*strideB and
//   writes C at b*strideC (all in elements).  strideA/strideB = 0 broadcasts.
//
// Four entry points share one binding layout and one uniform struct, so the
// engine can pick per shape/device without changing bind groups:
//
//   matmul_reg4  - CPU-rasteriser (llvmpipe) fast path, vec4 operand loads.
//                  Needs the conditions listed above the entry point.
//   matmul_reg   - same register-tile scheme with scalar loads: any shape.
//   matmul_tiled - classic GPU kernel: 64x64 output tile per 16x16 workgroup,
//                  operands staged through workgroup memory. Any shape. This
//                  is the one to use on real GPUs (NVIDIA/Vulkan etc.);
//                  split along K when its grid would be small.
//   matmul_gemv  - GPU kernel for a matrix times a vector (M = 1 or N = 1).
//
// Why two designs: on llvmpipe a workgroup runs on one CPU thread, the
// invocations of a workgroup are packed into 8-wide SIMD vectors, and (Mesa
// 22.x) EVERY storage or workgroup-memory load whose address is not a
// compile-time-uniform expression is emitted as a scalar loop over the 8 lanes
// with a bounds check per lane.  Such a load costs tens of instructions per
// component, while an 8-wide FMA costs half a cycle.  So on llvmpipe the only
// thing that matters is FMAs per loaded component: a big per-invocation
// register tile (TM rows x 4*CV columns) loads TM + 4*CV values per k and does
// TM*4*CV FMAs.  Workgroup memory does not help there (its loads are the same
// per-lane loop, plus barriers are coroutine switches), so the reg kernels do
// not use it.  On a GPU the opposite holds: global loads must be coalesced and
// reused through shared memory, and 64 vec4 accumulators per thread would
// kill occupancy -> matmul_tiled.

// `p`: the uniforms declared in src/kernels/matmul.ts, their struct generated from there.
#include "lib/register-tile.wgsl"

// The same buffers are declared both as scalar and as vec4 arrays.  WGSL allows
// this because no single entry point uses both views of a binding.
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;
@group(0) @binding(1) var<storage, read> A4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> B4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> C4: array<vec4<f32>>;

// Epilogue, fused into every entry point's store: C = act(A·B + bias[row]). The bias binding is always bound
// (to A's buffer when there is none); the flags remove what is not used. ACT and activate(): the fused
// activation, generated from the elementwise op table (src/kernels/elementwise.ts).
@group(0) @binding(4) var<storage, read> rowBias: array<f32>;
override HAS_BIAS: bool = false;

fn epilogue4(v: vec4<f32>, row: u32) -> vec4<f32> {
  var x = v;
  if (HAS_BIAS) { x += vec4<f32>(rowBias[row * p.bias_step]); }
  return activate(x, p.alpha);
}

fn epilogue(v: f32, row: u32) -> f32 {
  return epilogue4(vec4<f32>(v), row).x;
}

// Transpose flags: loads use the stored strides directly, nothing is
// materialised.  Being pipeline constants, the untaken branch is removed at
// pipeline creation, so the flags cost nothing at run time.
override TRANS_A: bool = false;
override TRANS_B: bool = false;

// ---------------------------------------------------------------------------
// Register-tile kernels (matmul_reg4 / matmul_reg)
//
// Workgroup = WG_X invocations in x.  Each workgroup owns TM consecutive rows
// (all its invocations share them) and 4*CV*WG_X columns.  Invocation `l`
// owns column groups  col0 + c*4*WG_X + [0,4)  for c < CV, where
// col0 = wg.x*4*CV*WG_X + 4*l.  Interleaving the groups (instead of giving a
// lane 4*CV contiguous columns) keeps neighbouring lanes on neighbouring
// addresses, which is what a GPU wants if this kernel is ever run there.
//
// Dispatch: (ceil(N / (4*CV*WG_X)), ceil(M / 16), batch)   (TM = 16, fixed).
//
// Tuning on llvmpipe (2-core EPYC, AVX-512, Mesa 22.3): WG_X = 8 (one SIMD
// vector per workgroup; more lanes only add coroutines), CV = 4 for
// wide N; for N <= 64 use CV = 2 so no lane is idle (the tile must not be much
// wider than N).  Accumulators: TM*CV vec4 = 64 vec4 at the defaults; they
// spill to the stack on CPU, which is still far cheaper than the loads saved.
// The accumulators are the register tile of shaders/lib/register-tile.wgsl
// (16 named rows of CV vec4, and why they are spelled out): rowFma's 4 steps
// are 4 consecutive k, its row values A[row, k4*4 .. k4*4+3].
override WG_X: u32 = 8u;
const TM = 16u;          // rows per workgroup (fixed: the tile has 16 rows)

// a[i] = A[4*g + i, k4*4 .. k4*4+3] for the 4 rows of row group g (global).
fn loadA4(a4: u32, g: u32, k4: u32) -> array<vec4<f32>, 4> {
  let M = p.M;
  let K4 = p.K / 4u;
  var a: array<vec4<f32>, 4>;
  if (TRANS_A) {
    // A stored [K,M]: one vec4 along M per k, then a 4x4 register transpose.
    // Same loaded-component count as the row-major case.
    let M4 = M / 4u;
    let gg = min(g, M4 - 1u);
    let q0 = A4[a4 + (k4 * 4u + 0u) * M4 + gg];
    let q1 = A4[a4 + (k4 * 4u + 1u) * M4 + gg];
    let q2 = A4[a4 + (k4 * 4u + 2u) * M4 + gg];
    let q3 = A4[a4 + (k4 * 4u + 3u) * M4 + gg];
    a[0] = vec4<f32>(q0.x, q1.x, q2.x, q3.x);
    a[1] = vec4<f32>(q0.y, q1.y, q2.y, q3.y);
    a[2] = vec4<f32>(q0.z, q1.z, q2.z, q3.z);
    a[3] = vec4<f32>(q0.w, q1.w, q2.w, q3.w);
  } else {
    for (var i = 0u; i < 4u; i++) {
      a[i] = A4[a4 + min(g * 4u + i, M - 1u) * K4 + k4];
    }
  }
  return a;
}

// b[kk][c] = B[k4*4+kk, columns 4*bcol[c] .. +3]
fn loadB4(b4: u32, bcol: ptr<function, array<u32, MAX_CV>>, k4: u32) -> Quad {
  let N4 = p.N / 4u;
  let K4 = p.K / 4u;
  var b: Quad;
  for (var c = 0u; c < CV; c++) {
    if (TRANS_B) {
      // B stored [N,K]: one vec4 along K per column + register transpose.
      let n = (*bcol)[c] * 4u;
      let q0 = B4[b4 + (n + 0u) * K4 + k4];
      let q1 = B4[b4 + (n + 1u) * K4 + k4];
      let q2 = B4[b4 + (n + 2u) * K4 + k4];
      let q3 = B4[b4 + (n + 3u) * K4 + k4];
      b[0][c] = vec4<f32>(q0.x, q1.x, q2.x, q3.x);
      b[1][c] = vec4<f32>(q0.y, q1.y, q2.y, q3.y);
      b[2][c] = vec4<f32>(q0.z, q1.z, q2.z, q3.z);
      b[3][c] = vec4<f32>(q0.w, q1.w, q2.w, q3.w);
    } else {
      for (var kk = 0u; kk < 4u; kk++) {
        b[kk][c] = B4[b4 + (k4 * 4u + kk) * N4 + (*bcol)[c]];
      }
    }
  }
  return b;
}

// N % 4 == 0, so a column group is either fully inside C or fully outside.
fn storeRow4(acc: Row, row: u32, col0: u32, c4: u32) {
  if (row < p.M) {
    for (var c = 0u; c < CV; c++) {
      let n = col0 + c * 4u * WG_X;
      if (n < p.N) { C4[c4 + row * (p.N / 4u) + n / 4u] = epilogue4(acc[c], row); }
    }
  }
}

// matmul_reg4 conditions (else use matmul_reg):
//   N % 4 == 0 (B rows / C rows as vec4), K % 4 == 0 (A rows as vec4; also
//   B columns when TRANS_B), M % 4 == 0 when TRANS_A (A stored [K,M] is read
//   as vec4 along M), and strideA, strideB, strideC % 4 == 0.
//   (Simplest rule for the engine: M, N, K all multiples of 4.)
@compute @workgroup_size(WG_X)
fn matmul_reg4(@builtin(workgroup_id) wg: vec3<u32>,
               @builtin(local_invocation_id) lid: vec3<u32>) {
  let g0 = wg.y * (TM / 4u);  // first row group (4 rows each)
  let col0 = wg.x * (4u * CV * WG_X) + lid.x * 4u;
  let a4 = (wg.z * p.strideA) / 4u;  // batch bases in vec4 units
  let b4 = (wg.z * p.strideB) / 4u;

  // Clamp every index once, outside the k loop: the loads then never need a
  // branch (lanes past the edge recompute the last valid row/column and the
  // guarded store drops them).  Branch-free loads matter on llvmpipe (a
  // divergent branch masks the whole SIMD vector) and on GPUs alike.
  var bcol: array<u32, MAX_CV>;      // vec4 index of each column group
  for (var c = 0u; c < CV; c++) {
    bcol[c] = min((col0 + c * 4u * WG_X) / 4u, p.N / 4u - 1u);
  }

  var acc: Tile;
  for (var k4 = 0u; k4 < p.K / 4u; k4++) {
    var b = loadB4(b4, &bcol, k4);
    var a = loadA4(a4, g0, k4);
    rowFma(&acc.r0, a[0], &b); rowFma(&acc.r1, a[1], &b); rowFma(&acc.r2, a[2], &b); rowFma(&acc.r3, a[3], &b);
    a = loadA4(a4, g0 + 1u, k4);
    rowFma(&acc.r4, a[0], &b); rowFma(&acc.r5, a[1], &b); rowFma(&acc.r6, a[2], &b); rowFma(&acc.r7, a[3], &b);
    a = loadA4(a4, g0 + 2u, k4);
    rowFma(&acc.r8, a[0], &b); rowFma(&acc.r9, a[1], &b); rowFma(&acc.r10, a[2], &b); rowFma(&acc.r11, a[3], &b);
    a = loadA4(a4, g0 + 3u, k4);
    rowFma(&acc.r12, a[0], &b); rowFma(&acc.r13, a[1], &b); rowFma(&acc.r14, a[2], &b); rowFma(&acc.r15, a[3], &b);
  }

  let c4 = (wg.z * p.strideC) / 4u;
  let r0 = wg.y * TM;
  for (var r = 0u; r < TM; r++) { storeRow4(tileRow(&acc, r), r0 + r, col0, c4); }
}

fn loadA(base: u32, row: u32, k: u32) -> f32 {
  if (TRANS_A) { return A[base + k * p.M + row]; }
  return A[base + row * p.K + k];
}

fn loadB(base: u32, k: u32, col: u32) -> f32 {
  if (TRANS_B) { return B[base + col * p.K + k]; }
  return B[base + k * p.N + col];
}

// General fallback with the same tiling, scalar loads: any M, N, K >= 1, any
// strides.  About 0.7x the speed of matmul_reg4 on llvmpipe.
@compute @workgroup_size(WG_X)
fn matmul_reg(@builtin(workgroup_id) wg: vec3<u32>,
              @builtin(local_invocation_id) lid: vec3<u32>) {
  let M = p.M;
  let N = p.N;
  let row0 = wg.y * TM;
  let col0 = wg.x * (4u * CV * WG_X) + lid.x * 4u;
  let ab = wg.z * p.strideA;
  let bb = wg.z * p.strideB;

  var rows: array<u32, TM>;
  for (var r = 0u; r < TM; r++) { rows[r] = min(row0 + r, M - 1u); }
  var cols: array<vec4<u32>, MAX_CV>;
  for (var c = 0u; c < CV; c++) {
    let n = vec4<u32>(col0 + c * 4u * WG_X) + vec4<u32>(0u, 1u, 2u, 3u);
    cols[c] = min(n, vec4<u32>(N - 1u));
  }

  // The row loop below (16 x CV vec4 FMAs + 1 load) is small enough for the
  // driver to unroll, so `acc` stays in registers without hand unrolling.
  var acc: array<array<vec4<f32>, MAX_CV>, TM>;
  for (var k = 0u; k < p.K; k++) {
    var b: array<vec4<f32>, MAX_CV>;
    for (var c = 0u; c < CV; c++) {
      b[c] = vec4<f32>(loadB(bb, k, cols[c].x), loadB(bb, k, cols[c].y),
                       loadB(bb, k, cols[c].z), loadB(bb, k, cols[c].w));
    }
    for (var r = 0u; r < TM; r++) {
      let a = vec4<f32>(loadA(ab, rows[r], k));
      for (var c = 0u; c < CV; c++) { acc[r][c] = fma(a, b[c], acc[r][c]); }
    }
  }

  let cb = wg.z * p.strideC;
  for (var r = 0u; r < TM; r++) {
    let row = row0 + r;
    if (row < M) {
      for (var c = 0u; c < CV; c++) {
        let n = col0 + c * 4u * WG_X;
        for (var i = 0u; i < 4u; i++) {
          if (n + i < N) { C[cb + row * N + n + i] = epilogue(acc[r][c][i], row); }
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------
// matmul_tiled: GPU kernel.  Workgroup 16x16 = 256 invocations computes a
// 64x64 tile of C; each invocation a 4x4 sub-tile at rows ty + 16*i and
// columns tx + 16*j (strided, so that in the inner loop a warp reads 16
// consecutive floats of Bs -> no bank conflicts, and As reads broadcast; C
// stores are coalesced along N).  K is walked in steps of TK = 16: each step
// stages a 64x16 slab of A and a 16x64 slab of B in workgroup memory (4
// elements per invocation each), with the global-read mapping chosen per
// transpose flag so that consecutive invocations read consecutive addresses.
// Out-of-range elements are staged as 0, so any M, N, K works.
//
// Split-K: with `splits` > 1, workgroup z = b * splits + s sums only K range
// [s * k_chunk, (s + 1) * k_chunk) of product b and writes its partial C at
// z * strideC; the engine sums the pieces with the reduction kernel (in a
// fixed order).  A product with a long K and few output tiles (a 1x1
// convolution's weight gradient: K = every pixel, one 64x64 tile) would
// otherwise leave nearly every SM idle while a few workgroups loop over K.
//
// Dispatch: (ceil(N / 64), ceil(M / 64), batch * splits).  Overrides WG_X/CV
// are not used by this entry point.
const TT = 64u;  // output tile edge
const TK = 16u;  // K step
var<workgroup> As: array<array<f32, 64>, 16>;  // As[k][m]
var<workgroup> Bs: array<array<f32, 64>, 16>;  // Bs[k][n]

@compute @workgroup_size(16, 16)
fn matmul_tiled(@builtin(workgroup_id) wg: vec3<u32>,
                @builtin(local_invocation_id) lid: vec3<u32>,
                @builtin(local_invocation_index) tid: u32) {
  let M = p.M;
  let N = p.N;
  let K = p.K;
  let row0 = wg.y * TT;
  let col0 = wg.x * TT;
  let product = wg.z / p.splits;
  let kBegin = (wg.z % p.splits) * p.k_chunk;
  let kEnd = min(K, kBegin + p.k_chunk);
  let ab = product * p.strideA;
  let bb = product * p.strideB;

  var acc: array<vec4<f32>, 4>;  // acc[i][j] -> C[row0+ty+16i, col0+tx+16j]

  for (var k0 = kBegin; k0 < kEnd; k0 += TK) {
    for (var q = 0u; q < 4u; q++) {
      let e = tid + q * 256u;
      // A slab: 64 (m) x 16 (k).  Walk the stored-contiguous dimension fastest.
      var am: u32;
      var ak: u32;
      if (TRANS_A) { am = e % 64u; ak = e / 64u; } else { am = e / 16u; ak = e % 16u; }
      let gm = row0 + am;
      let gk = k0 + ak;
      let av = loadA(ab, min(gm, M - 1u), min(gk, K - 1u));
      As[ak][am] = select(0.0, av, gm < M && gk < kEnd);
      // B slab: 16 (k) x 64 (n).
      var bn: u32;
      var bk: u32;
      if (TRANS_B) { bn = e / 16u; bk = e % 16u; } else { bn = e % 64u; bk = e / 64u; }
      let gn = col0 + bn;
      let gk2 = k0 + bk;
      let bv = loadB(bb, min(gk2, K - 1u), min(gn, N - 1u));
      Bs[bk][bn] = select(0.0, bv, gn < N && gk2 < kEnd);
    }
    workgroupBarrier();
    for (var kk = 0u; kk < TK; kk++) {
      let b = vec4<f32>(Bs[kk][lid.x], Bs[kk][lid.x + 16u],
                        Bs[kk][lid.x + 32u], Bs[kk][lid.x + 48u]);
      for (var i = 0u; i < 4u; i++) {
        acc[i] = fma(vec4<f32>(As[kk][lid.y + 16u * i]), b, acc[i]);
      }
    }
    workgroupBarrier();
  }

  let cb = wg.z * p.strideC;
  for (var i = 0u; i < 4u; i++) {
    let row = row0 + lid.y + 16u * i;
    if (row < M) {
      for (var j = 0u; j < 4u; j++) {
        let col = col0 + lid.x + 16u * j;
        if (col < N) { C[cb + row * N + col] = epilogue(acc[i][j], row); }
      }
    }
  }
}

// ---------------------------------------------------------------------------
// matmul_gemv: GPU kernel for a matrix times a vector, C[b][m] = Σ_k Mat(m, k) · vec[k],
// the matrix [M, K] in A's binding (stored [K, M] when TRANS_A), the vector
// (K contiguous values) in B's binding.  Spectral normalisation's power
// iteration (W̄v, uᵀW̄) is such a product; through matmul_tiled it keeps one
// column of a 64x64 tile busy.  The engine also routes a row vector times a
// matrix here, as the transposed product (Bᵀ · aᵀ).  Loads are coalesced in
// both layouts:
//   - TRANS_A (stored [K, M]): the 64 lanes of a slice own 64 adjacent rows and
//     read along M; the 4 slices take every 4th k, summed at the end.
//     Dispatch (ceil(M / 64), 1, batch).
//   - row-major (stored [M, K]): 64 lanes per row read along K, then a tree;
//     4 rows per workgroup.  Dispatch (ceil(M / 4), 1, batch).
var<workgroup> gv: array<f32, 256>;

@compute @workgroup_size(256)
fn matmul_gemv(@builtin(workgroup_id) wg: vec3<u32>,
               @builtin(local_invocation_index) tid: u32) {
  let M = p.M;
  let K = p.K;
  let ab = wg.z * p.strideA;
  let vb = wg.z * p.strideB;
  let cb = wg.z * p.strideC;
  let x = tid % 64u;
  let y = tid / 64u;
  if (TRANS_A) {
    let m = wg.x * 64u + x;
    let mc = min(m, M - 1u);
    var acc = 0.0;
    for (var k = y; k < K; k += 4u) { acc = fma(A[ab + k * M + mc], B[vb + k], acc); }
    gv[tid] = acc;
    workgroupBarrier();
    if (y == 0u && m < M) { C[cb + m] = epilogue((gv[x] + gv[x + 64u]) + (gv[x + 128u] + gv[x + 192u]), m); }
  } else {
    let m = wg.x * 4u + y;
    let mc = min(m, M - 1u);
    var acc = 0.0;
    for (var k = x; k < K; k += 64u) { acc = fma(A[ab + mc * K + k], B[vb + k], acc); }
    gv[tid] = acc;
    workgroupBarrier();
    for (var step = 32u; step > 0u; step /= 2u) {
      if (x < step) { gv[tid] += gv[tid + step]; }
      workgroupBarrier();
    }
    if (x == 0u && m < M) { C[cb + m] = epilogue(gv[tid], m); }
  }
}
