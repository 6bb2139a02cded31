// The adapter's arithmetic roof: every invocation runs 16 independent vec4 FMA chains, so nothing but FMA
// throughput limits it (no memory traffic inside the loop, enough independent work to hide FMA latency).
// FLOPs per dispatch = invocations · iterations · 16 chains · 4 lanes · 2.

struct Params {
  iterations: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> sink: array<vec4<f32>>;

@compute @workgroup_size(64)
fn fma_roof(@builtin(global_invocation_id) gid: vec3<u32>) {
  let seed = vec4<f32>(f32(gid.x) * 1e-9);
  var a0 = seed + 0.0; var a1 = seed + 1.0; var a2 = seed + 2.0; var a3 = seed + 3.0;
  var a4 = seed + 4.0; var a5 = seed + 5.0; var a6 = seed + 6.0; var a7 = seed + 7.0;
  var a8 = seed + 8.0; var a9 = seed + 9.0; var a10 = seed + 10.0; var a11 = seed + 11.0;
  var a12 = seed + 12.0; var a13 = seed + 13.0; var a14 = seed + 14.0; var a15 = seed + 15.0;
  let m = vec4<f32>(0.999999);
  let c = vec4<f32>(1e-7);
  for (var i = 0u; i < params.iterations; i++) {
    a0 = fma(a0, m, c); a1 = fma(a1, m, c); a2 = fma(a2, m, c); a3 = fma(a3, m, c);
    a4 = fma(a4, m, c); a5 = fma(a5, m, c); a6 = fma(a6, m, c); a7 = fma(a7, m, c);
    a8 = fma(a8, m, c); a9 = fma(a9, m, c); a10 = fma(a10, m, c); a11 = fma(a11, m, c);
    a12 = fma(a12, m, c); a13 = fma(a13, m, c); a14 = fma(a14, m, c); a15 = fma(a15, m, c);
  }
  // Summed into memory so the compiler cannot drop the chains.
  sink[gid.x] = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11 + a12 + a13 + a14 + a15;
}

// The adapter's copy roof: each invocation moves one vec4 from `src` to `sink` (16 bytes read, 16 written), a
// streaming pattern no kernel's memory traffic can beat. Bytes per dispatch = 32 · invocations.
@group(0) @binding(2) var<storage, read> src: array<vec4<f32>>;

@compute @workgroup_size(64)
fn copy_roof(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = gid.x + gid.y * groups.x * 64u;
  if (i < params.iterations) { sink[i] = src[i]; }
}
