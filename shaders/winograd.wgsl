// Winograd's minimal filtering F(2×2, 3×3) (Lavin & Gray 2016) for 3×3 convolutions at stride 1: the transforms
// around the matrix products (src/kernels/conv-winograd.ts). A 2×2 block of results needs the 4×4 patch d of the
// source around it; in the transformed domain the 9-tap sum becomes 16 independent products,
//   Y = Aᵀ [ Σ_c (G g_c Gᵀ) ⊙ (Bᵀ d_c B) ] A,
// so the sum over channels is 16 matrix products [O, C] × [C, tiles] (a 2.25× smaller multiply than the 36 of the
// direct sum), between three passes that touch each value a few times:
//   winograd_input   V[ξ, c, j] = (Bᵀ d B)[ξ]    for each channel c and column j: 2×2 tile t of image n
//   winograd_weight  U[ξ, o, c] = (G g Gᵀ)[ξ]    for each output channel o and input channel c (FLIP: see there)
//   winograd_output  y[n, o, tile t] = act(Aᵀ M A + bias[o])  from M[ξ, o, j]
// The columns j are every image's tiles in a row (n·T + t), taken a chunk at a time so V and M stay within one
// storage binding.
// ξ = 4·row + column of the 4×4 transformed patch. The matrices (every entry 0, ±1 or ½, so the transforms are
// exact up to one rounding per add):
//   Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1]   G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1]   Aᵀ = [1 1 1 0; 0 1 −1 −1]
// Each applies to rows, then to columns; a row of a patch is one vec4, so every step is four vec4 adds.
// `p`: the uniforms declared in src/kernels/conv-winograd.ts, their struct generated from there.
#include "lib/grid.wgsl"

// The transforms write `transformed`; the output pass reads the bias there instead (no entry point uses both).
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> transformed: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> result: array<f32>;

override WG_X: u32 = 64u;

// Bᵀ applied along one vec4 (a row or, transposed, a column of the patch).
fn inputTransform(r: vec4<f32>) -> vec4<f32> {
  return vec4<f32>(r.x - r.z, r.y + r.z, r.z - r.y, r.y - r.w);
}

// Aᵀ along one vec4: two results.
fn outputTransform(r: vec4<f32>) -> vec2<f32> {
  return vec2<f32>(r.x + r.y + r.z, r.y - r.z - r.w);
}

// G along three taps: four values.
fn weightTransform(a: f32, b: f32, c: f32) -> vec4<f32> {
  return vec4<f32>(a, 0.5 * (a + b + c), 0.5 * (a - b + c), c);
}

// Four source values of row y from column x0 of one plane, zero outside the image (the padding).
fn sourceRow(plane: u32, y: i32, x0: i32) -> vec4<f32> {
  if (y < 0 || y >= i32(p.inH)) { return vec4<f32>(0.0); }
  var r = vec4<f32>(0.0);
  let row = plane + u32(y) * p.inW;
  for (var i = 0; i < 4; i++) {
    let x = x0 + i;
    if (x >= 0 && x < i32(p.inW)) { r[i] = src[row + u32(x)]; }
  }
  return r;
}

// What the input and output passes' invocation `id` works on: channel c's column j of the chunk, which is tile t
// (whose top-left result pixel is y, x) of image n, where n·tiles + t = columnStart + j. j runs fastest, so
// neighbouring lanes take neighbouring tiles.
struct Column { c: u32, j: u32, n: u32, y: u32, x: u32 }

fn columnOf(id: u32) -> Column {
  let j = id % p.columns;
  let column = p.columnStart + j;
  let t = column % p.tiles;
  return Column(id / p.columns, j, column / p.tiles, 2u * (t / p.tilesX), 2u * (t % p.tilesX));
}

// One invocation per (source channel, column of the chunk).
@compute @workgroup_size(WG_X)
fn winograd_input(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let id = grid1d_index(gid, groups, WG_X);
  if (id >= p.count) { return; }
  let at = columnOf(id);
  let y0 = i32(at.y) - p.padY;
  let x0 = i32(at.x) - p.padX;
  let plane = (at.n * p.channels + at.c) * p.inH * p.inW;
  // Bᵀ d: combinations of the patch's rows, taken column by column (v[k][i] = (Bᵀ d)[i][k]).
  let d0 = sourceRow(plane, y0, x0);
  let d1 = sourceRow(plane, y0 + 1, x0);
  let d2 = sourceRow(plane, y0 + 2, x0);
  let d3 = sourceRow(plane, y0 + 3, x0);
  var v = array<vec4<f32>, 4>(inputTransform(vec4<f32>(d0.x, d1.x, d2.x, d3.x)), inputTransform(vec4<f32>(d0.y, d1.y, d2.y, d3.y)),
                              inputTransform(vec4<f32>(d0.z, d1.z, d2.z, d3.z)), inputTransform(vec4<f32>(d0.w, d1.w, d2.w, d3.w)));
  // Then B along each row i.
  let plane16 = p.channels * p.columns;
  let slot = at.c * p.columns + at.j;
  for (var i = 0u; i < 4u; i++) {
    let row = inputTransform(vec4<f32>(v[0][i], v[1][i], v[2][i], v[3][i]));
    for (var k = 0u; k < 4u; k++) { transformed[(4u * i + k) * plane16 + slot] = row[k]; }
  }
}

// The weight as the products' left operand: U[ξ, r, k] for result channel r and reduced channel k, one invocation
// each, from a contiguous weight [R, K, 3, 3]; with FLIP, from [K, R, 3, 3] with its taps reversed (the input
// gradient of a 3×3 stride-1 convolution is the convolution of the output gradient with that weight).
override FLIP: bool = false;

@compute @workgroup_size(WG_X)
fn winograd_weight(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let id = grid1d_index(gid, groups, WG_X);
  if (id >= p.count) { return; }
  let r = id / p.channels;
  let k = id % p.channels;
  let rows = p.count / p.channels;
  let g = select(id, k * rows + r, FLIP) * 9u;
  // src[g + t] is tap t (row-major 3×3) of the weight, or tap 8 − t flipped.
  var taps: array<f32, 9>;
  for (var t = 0u; t < 9u; t++) { taps[t] = src[g + select(t, 8u - t, FLIP)]; }
  // G g: each of the three columns of taps through G.
  let c0 = weightTransform(taps[0], taps[3], taps[6]);
  let c1 = weightTransform(taps[1], taps[4], taps[7]);
  let c2 = weightTransform(taps[2], taps[5], taps[8]);
  // Then Gᵀ along each row i.
  let plane16 = p.count;
  for (var i = 0u; i < 4u; i++) {
    let row = weightTransform(c0[i], c1[i], c2[i]);
    for (var j = 0u; j < 4u; j++) { transformed[(4u * i + j) * plane16 + id] = row[j]; }
  }
}

// One invocation per (result channel, column of the chunk).
@compute @workgroup_size(WG_X)
fn winograd_output(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let id = grid1d_index(gid, groups, WG_X);
  if (id >= p.count) { return; }
  let at = columnOf(id);
  let plane16 = p.channels * p.columns;
  let slot = at.c * p.columns + at.j;
  // Aᵀ M: combinations of the rows of M, each row read as four values of consecutive planes ξ.
  var m: array<vec4<f32>, 4>;
  for (var i = 0u; i < 4u; i++) {
    let base = 4u * i * plane16 + slot;
    m[i] = vec4<f32>(src[base], src[base + plane16], src[base + 2u * plane16], src[base + 3u * plane16]);
  }
  let s0 = m[0] + m[1] + m[2];
  let s1 = m[1] - m[2] - m[3];
  // Then A along each of the two rows.
  let b = select(0.0, bias[at.c], p.hasBias != 0u);
  let top = activate2(outputTransform(s0) + b);
  let bottom = activate2(outputTransform(s1) + b);
  let out = (at.n * p.channels + at.c) * p.outH * p.outW + at.y * p.outW + at.x;
  // A tile may reach one row or column past an odd-sized result.
  let right = at.x + 1u < p.outW;
  result[out] = top.x;
  if (right) { result[out + 1u] = top.y; }
  if (at.y + 1u < p.outH) {
    result[out + p.outW] = bottom.x;
    if (right) { result[out + p.outW + 1u] = bottom.y; }
  }
}

fn activate2(v: vec2<f32>) -> vec2<f32> {
  return vec2<f32>(activate1(v.x, p.alpha), activate1(v.y, p.alpha));
}
