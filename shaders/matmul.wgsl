// Batched f32 matmul:  C[b] = op(A[b]) @ op(B[b])   for b in [0, batch)
//
//   op(A) is logical [M,K]; stored row-major [M,K], or [K,M] when TRANS_A.
//   op(B) is logical [K,N]; stored row-major [K,N], or [N,K] when TRANS_B.
//   C is [M,N] row-major.  Batch b reads A at b*strideA, B at b*strideB and
//   writes C at b*strideC (all in elements).  strideA/strideB = 0 broadcasts.
//
// Three entry points share one binding layout and one uniform struct, so the
// engine can pick per shape/device without changing bind groups:
//
//   matmul_reg4  - CPU-rasteriser (llvmpipe) fast path, vec4 operand loads.
//                  Needs the conditions listed above the entry point.
//   matmul_reg   - same register-tile scheme with scalar loads: any shape.
//   matmul_tiled - classic GPU kernel: 64x64 output tile per 16x16 workgroup,
//                  operands staged through workgroup memory. Any shape. This
//                  is the one to use on real GPUs (NVIDIA/Vulkan etc.).
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

struct Params {
  M: u32,        // byte offset 0
  N: u32,        // 4
  K: u32,        // 8
  batch: u32,    // 12  (informational; the dispatch z size is the batch)
  strideA: u32,  // 16  elements between consecutive batches of A (0 = broadcast)
  strideB: u32,  // 20  elements between consecutive batches of B (0 = broadcast)
  strideC: u32,  // 24  elements between consecutive batches of C (normally M*N)
  splits: u32,   // 28  matmul_tiled: pieces of K per product (split-K); z = batch * splits + piece
  k_chunk: u32,  // 32  matmul_tiled: K per piece (a multiple of TK)
  alpha: f32,    // 36  LeakyReLU slope of the epilogue
  bias_step: u32,// 40  bias element per row of C: 1, or 0 when C is one row computed transposed (matmul_gemv)
  _pad2: u32,    //     (struct size 48 bytes)
}

@group(0) @binding(0) var<uniform> P: Params;
// The same buffers are declared both as scalar and as vec4 arrays.  WGSL allows
// this because no single entry point uses both views of a binding.
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;
@group(0) @binding(1) var<storage, read> A4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> B4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> C4: array<vec4<f32>>;

// Epilogue, fused into every entry point's store: C = act(A·B + bias[row]). The bias binding is always bound
// (to A's buffer when there is none); the flags remove what is not used.
@group(0) @binding(4) var<storage, read> rowBias: array<f32>;
override HAS_BIAS: bool = false;
override ACT: u32 = 0u;  // 0 none, 1 ReLU, 2 LeakyReLU (slope P.alpha)

fn epilogue4(v: vec4<f32>, row: u32) -> vec4<f32> {
  var x = v;
  if (HAS_BIAS) { x += vec4<f32>(rowBias[row * P.bias_step]); }
  if (ACT == 1u) { x = max(x, vec4<f32>(0.0)); }
  if (ACT == 2u) { x = select(x * P.alpha, x, x > vec4<f32>(0.0)); }
  return x;
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
override WG_X: u32 = 8u;
override CV: u32 = 4u;   // vec4 column groups per invocation, 1..MAX_CV
const TM = 16u;          // rows per workgroup (fixed: matmul_reg4 names 16 accumulators)
const MAX_CV = 4u;
// Why TM is a const and the reg4 tile is spelled out below: Mesa only unrolls
// a loop whose unrolled body stays under a size limit (~800 NIR instructions).
// A loop over the 16 rows around 4*4*CV vec4 FMAs exceeds it, stays a real
// loop, and then `acc[r]` is dynamically indexed -> the accumulators move to
// scratch memory, whose every access is again a per-lane loop (measured 4x
// slower).  So the row dimension is unrolled by hand (16 named rows, helper
// functions are inlined), and only small loops (CV, 4) are left to the driver.
// CV stays an override: loops to CV fully unroll and unused slots are dead.

alias Row = array<vec4<f32>, MAX_CV>;        // one accumulator row: CV vec4
alias BTile = array<array<vec4<f32>, MAX_CV>, 4>;  // B[k4*4+kk, lane's columns]

// acc[c] += a.x*b[0][c] + a.y*b[1][c] + a.z*b[2][c] + a.w*b[3][c]
// (a = A[row, k4*4 .. k4*4+3]).  Four dependent FMAs per accumulator is fine:
// 16 rows x CV independent chains hide the latency.
fn rowFma(acc: ptr<function, Row>, a: vec4<f32>, b: ptr<function, BTile>) {
  for (var c = 0u; c < CV; c++) {
    var t = (*acc)[c];
    t = fma(vec4<f32>(a.x), (*b)[0][c], t);
    t = fma(vec4<f32>(a.y), (*b)[1][c], t);
    t = fma(vec4<f32>(a.z), (*b)[2][c], t);
    t = fma(vec4<f32>(a.w), (*b)[3][c], t);
    (*acc)[c] = t;
  }
}

// a[i] = A[4*g + i, k4*4 .. k4*4+3] for the 4 rows of row group g (global).
fn loadA4(a4: u32, g: u32, k4: u32) -> array<vec4<f32>, 4> {
  let M = P.M;
  let K4 = P.K / 4u;
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
fn loadB4(b4: u32, bcol: ptr<function, array<u32, MAX_CV>>, k4: u32) -> BTile {
  let N4 = P.N / 4u;
  let K4 = P.K / 4u;
  var b: BTile;
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
  if (row < P.M) {
    for (var c = 0u; c < CV; c++) {
      let n = col0 + c * 4u * WG_X;
      if (n < P.N) { C4[c4 + row * (P.N / 4u) + n / 4u] = epilogue4(acc[c], row); }
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
  let a4 = (wg.z * P.strideA) / 4u;  // batch bases in vec4 units
  let b4 = (wg.z * P.strideB) / 4u;

  // Clamp every index once, outside the k loop: the loads then never need a
  // branch (lanes past the edge recompute the last valid row/column and the
  // guarded store drops them).  Branch-free loads matter on llvmpipe (a
  // divergent branch masks the whole SIMD vector) and on GPUs alike.
  var bcol: array<u32, MAX_CV>;      // vec4 index of each column group
  for (var c = 0u; c < CV; c++) {
    bcol[c] = min((col0 + c * 4u * WG_X) / 4u, P.N / 4u - 1u);
  }

  var acc0: Row; var acc1: Row; var acc2: Row; var acc3: Row;
  var acc4: Row; var acc5: Row; var acc6: Row; var acc7: Row;
  var acc8: Row; var acc9: Row; var acc10: Row; var acc11: Row;
  var acc12: Row; var acc13: Row; var acc14: Row; var acc15: Row;

  for (var k4 = 0u; k4 < P.K / 4u; k4++) {
    var b = loadB4(b4, &bcol, k4);
    var a = loadA4(a4, g0, k4);
    rowFma(&acc0, a[0], &b); rowFma(&acc1, a[1], &b); rowFma(&acc2, a[2], &b); rowFma(&acc3, a[3], &b);
    a = loadA4(a4, g0 + 1u, k4);
    rowFma(&acc4, a[0], &b); rowFma(&acc5, a[1], &b); rowFma(&acc6, a[2], &b); rowFma(&acc7, a[3], &b);
    a = loadA4(a4, g0 + 2u, k4);
    rowFma(&acc8, a[0], &b); rowFma(&acc9, a[1], &b); rowFma(&acc10, a[2], &b); rowFma(&acc11, a[3], &b);
    a = loadA4(a4, g0 + 3u, k4);
    rowFma(&acc12, a[0], &b); rowFma(&acc13, a[1], &b); rowFma(&acc14, a[2], &b); rowFma(&acc15, a[3], &b);
  }

  let c4 = (wg.z * P.strideC) / 4u;
  let r0 = wg.y * TM;
  storeRow4(acc0, r0 + 0u, col0, c4);   storeRow4(acc1, r0 + 1u, col0, c4);
  storeRow4(acc2, r0 + 2u, col0, c4);   storeRow4(acc3, r0 + 3u, col0, c4);
  storeRow4(acc4, r0 + 4u, col0, c4);   storeRow4(acc5, r0 + 5u, col0, c4);
  storeRow4(acc6, r0 + 6u, col0, c4);   storeRow4(acc7, r0 + 7u, col0, c4);
  storeRow4(acc8, r0 + 8u, col0, c4);   storeRow4(acc9, r0 + 9u, col0, c4);
  storeRow4(acc10, r0 + 10u, col0, c4); storeRow4(acc11, r0 + 11u, col0, c4);
  storeRow4(acc12, r0 + 12u, col0, c4); storeRow4(acc13, r0 + 13u, col0, c4);
  storeRow4(acc14, r0 + 14u, col0, c4); storeRow4(acc15, r0 + 15u, col0, c4);
}

fn loadA(base: u32, row: u32, k: u32) -> f32 {
  if (TRANS_A) { return A[base + k * P.M + row]; }
  return A[base + row * P.K + k];
}

fn loadB(base: u32, k: u32, col: u32) -> f32 {
  if (TRANS_B) { return B[base + col * P.K + k]; }
  return B[base + k * P.N + col];
}

// General fallback with the same tiling, scalar loads: any M, N, K >= 1, any
// strides.  About 0.7x the speed of matmul_reg4 on llvmpipe.
@compute @workgroup_size(WG_X)
fn matmul_reg(@builtin(workgroup_id) wg: vec3<u32>,
              @builtin(local_invocation_id) lid: vec3<u32>) {
  let M = P.M;
  let N = P.N;
  let row0 = wg.y * TM;
  let col0 = wg.x * (4u * CV * WG_X) + lid.x * 4u;
  let ab = wg.z * P.strideA;
  let bb = wg.z * P.strideB;

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
  for (var k = 0u; k < P.K; k++) {
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

  let cb = wg.z * P.strideC;
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
  let M = P.M;
  let N = P.N;
  let K = P.K;
  let row0 = wg.y * TT;
  let col0 = wg.x * TT;
  let product = wg.z / P.splits;
  let kBegin = (wg.z % P.splits) * P.k_chunk;
  let kEnd = min(K, kBegin + P.k_chunk);
  let ab = product * P.strideA;
  let bb = product * P.strideB;

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

  let cb = wg.z * P.strideC;
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
  let M = P.M;
  let K = P.K;
  let ab = wg.z * P.strideA;
  let vb = wg.z * P.strideB;
  let cb = wg.z * P.strideC;
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
