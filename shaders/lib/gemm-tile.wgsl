// The workgroup-memory GEMM tile of the convolutions' GPU kernels (conv_tiled, conv_wgrad_tiled): a workgroup of
// 16 × TILE_M/4 invocations computes a TILE_M × TILE_N block of the result; invocation (tx, ty) owns the 4 × 4
// sub-block of rows 4·ty … 4·ty + 3 and columns 4·tx … 4·tx + 3. The reduction runs in stages of TK steps: the
// kernel's loaders stage the TK × TILE_M slab of the left operand in tileA and the TK × TILE_N slab of the right
// one in tileB (both [step][vec4 of 4 rows or 4 columns]), a barrier, stageFma, a barrier.
//
// Why this shape, the opposite of register-tile.wgsl's: on a GPU a global load should be coalesced and then reused
// from workgroup memory by many invocations, and a small accumulator keeps occupancy up. Each step of a stage reads
// two vec4 from workgroup memory (one broadcast to the warp, one conflict-free) for 16 FMAs. A slab row holds 17
// vec4, one of padding, so that loaders whose adjacent lanes walk the reduction (conv_wgrad_tiled) store to
// different banks. On a CPU rasteriser every workgroup-memory access is a per-lane loop and every barrier a
// coroutine switch, so llvmpipe keeps the register-tile kernels.
override TILE_M: u32 = 64u;   // result rows per workgroup: 16, 32 or 64 (invocations: 4·TILE_M)
const TILE_N = 64u;           // result columns per workgroup
const TK = 16u;               // reduction steps per stage

var<workgroup> tileA: array<array<vec4<f32>, 17>, TK>;
var<workgroup> tileB: array<array<vec4<f32>, 17>, TK>;

// block[i][j]: row 4·ty + i, column 4·tx + j.
alias Block = array<vec4<f32>, 4>;

fn stageFma(block: ptr<function, Block>, tx: u32, ty: u32) {
  for (var k = 0u; k < TK; k++) {
    let a = tileA[k][ty];
    let b = tileB[k][tx];
    (*block)[0] = fma(vec4<f32>(a.x), b, (*block)[0]);
    (*block)[1] = fma(vec4<f32>(a.y), b, (*block)[1]);
    (*block)[2] = fma(vec4<f32>(a.z), b, (*block)[2]);
    (*block)[3] = fma(vec4<f32>(a.w), b, (*block)[3]);
  }
}

// The loaders' reduction index as mixed-radix digits (x: the unbounded top digit, y and z below it, radix.x unused),
// so that moving on by a whole stage is a few compares instead of two divisions per element and stage.
fn digits(v: u32, radix: vec3<u32>) -> vec3<u32> {
  let low = max(radix.y * radix.z, 1u);
  return vec3<u32>(v / low, (v % low) / max(radix.z, 1u), v % max(radix.z, 1u));
}

// d + by, both digits of `radix` (by.y < radix.y and by.z < radix.z, as digits() makes them): at most one carry per digit.
fn advance(d: vec3<u32>, by: vec3<u32>, radix: vec3<u32>) -> vec3<u32> {
  var s = d + by;
  if (s.z >= radix.z) { s.z -= radix.z; s.y += 1u; }
  if (s.y >= radix.y) { s.y -= radix.y; s.x += 1u; }
  return s;
}
