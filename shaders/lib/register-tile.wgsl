// The register tile of the kernels tuned for CPU rasterisers (matmul_reg4, conv_gather*, conv_wgrad): an
// invocation accumulates 16 rows × CV vec4 columns, each update a chain of 4 FMAs over 4 consecutive reduction
// steps (input channels, k, or pixels).
//
// Why this shape: on llvmpipe (Mesa 22) nearly every storage load whose address differs per lane is a scalar
// loop over the 8 SIMD lanes, while a vec4 FMA is four SIMD instructions, so speed is FMAs per loaded value:
// every loaded value feeds 16 rows or 4·CV columns. The rows are named struct members, not an array indexed in a
// loop: Mesa only unrolls a loop whose body stays small (~800 NIR instructions), and a dynamically indexed
// accumulator array moves to scratch memory, whose every access is again a per-lane loop (measured 4× slower).
// Loops left to the driver are the small ones over CV and 4; CV is an override, so unused slots are dead code.
// Kernels call rowFma once per named row, straight-line (a helper that picks rows by a switch, even on a constant,
// measured 2–3× slower in the convolutions: the driver no longer unrolls around it).
override CV: u32 = 4u;   // vec4 column groups per invocation, 1..MAX_CV
const MAX_CV = 4u;

alias Row = array<vec4<f32>, MAX_CV>;   // one accumulator row: CV vec4
alias Quad = array<Row, 4>;             // the invocation's columns at 4 consecutive reduction steps

struct Tile {
  r0: Row, r1: Row, r2: Row, r3: Row, r4: Row, r5: Row, r6: Row, r7: Row,
  r8: Row, r9: Row, r10: Row, r11: Row, r12: Row, r13: Row, r14: Row, r15: Row,
}

// acc += w.x·v[0] + w.y·v[1] + w.z·v[2] + w.w·v[3]  (w: one row's values at the 4 steps). Four dependent FMAs
// per accumulator are fine: 16 rows × CV independent chains hide the latency.
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

// Row r of the tile, for the store after the reduction.
fn tileRow(acc: ptr<function, Tile>, r: u32) -> Row {
  switch r {
    case 0u: { return (*acc).r0; } case 1u: { return (*acc).r1; } case 2u: { return (*acc).r2; } case 3u: { return (*acc).r3; }
    case 4u: { return (*acc).r4; } case 5u: { return (*acc).r5; } case 6u: { return (*acc).r6; } case 7u: { return (*acc).r7; }
    case 8u: { return (*acc).r8; } case 9u: { return (*acc).r9; } case 10u: { return (*acc).r10; } case 11u: { return (*acc).r11; }
    case 12u: { return (*acc).r12; } case 13u: { return (*acc).r13; } case 14u: { return (*acc).r14; } default: { return (*acc).r15; }
  }
}
