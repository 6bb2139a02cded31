// The sliding register window of the 1-D filters (resample's filter_axis, xdog's vertical filters): an invocation
// computes the outputs of 16 consecutive source positions q0 … q0+15 (a Run) at once, tap by tap, from a Window of
// the 16 samples q0 + offset + t … q0 + offset + t + 15. Each tap costs one sample load (the caller's), one weight
// and four vec4 FMAs, and moving the window on is register renaming. On a CPU adapter (llvmpipe) a storage load is
// a scalar loop over the SIMD lanes and a dynamically indexed private array is a gather too, so everything in the
// tap loop stays in named vec4 registers (16 positions measured 25 % faster than 8; a private window array was 2×
// slower).
const RUN: u32 = 16u;

struct Run {
  a0: vec4<f32>,
  a1: vec4<f32>,
  a2: vec4<f32>,
  a3: vec4<f32>,
}

// At tap t: samples q0 + offset + t … + 15 (the caller fills the first 15 before tap 0; windowTap adds the 16th).
alias Window = Run;

// One tap: `next` enters the window's end, acc += weight · window, and the window moves on by one sample.
fn windowTap(acc: ptr<function, Run>, win: ptr<function, Window>, weight: f32, next: f32) {
  (*win).a3.w = next;
  (*acc).a0 += weight * (*win).a0;
  (*acc).a1 += weight * (*win).a1;
  (*acc).a2 += weight * (*win).a2;
  (*acc).a3 += weight * (*win).a3;
  (*win).a0 = vec4<f32>((*win).a0.yzw, (*win).a1.x);
  (*win).a1 = vec4<f32>((*win).a1.yzw, (*win).a2.x);
  (*win).a2 = vec4<f32>((*win).a2.yzw, (*win).a3.x);
  (*win).a3 = vec4<f32>((*win).a3.yzw, 0.0);
}
