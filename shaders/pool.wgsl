// 2-D pooling over NCHW tensors with PyTorch semantics: floor mode; in the average, padding counts as zeros
// and the divisor is always kh·kw (count_include_pad = True); in the max, padding counts as −∞.
//
// Forward passes run one invocation per output element. Backward passes are gathers, one invocation per input
// element that sums over the windows containing it, so every invocation owns the element it writes: no
// atomics, and the result is the same bits on every run. Inputs are read through their NCHW strides, so
// permuted, sliced or broadcast views need no copy (the vec4 k2 s2 kernels excepted: the host gives them only
// contiguous input); outputs are written contiguous.
//
// The host guarantees padding ≤ kernel / 2 (PyTorch's rule), so every window holds at least one input.

// `p`: the uniforms declared in src/kernels/pool.ts, their struct generated from there.
#include "lib/grid.wgsl"


const WG: u32 = 256u;

// Element offset of (n, c, 0, 0) of a strided NCHW operand.
fn plane_offset(plane: u32, strides: vec4<u32>, offset: u32) -> u32 {
  return offset + (plane / p.channels) * strides.x + (plane % p.channels) * strides.y;
}

// The clipped extent [begin, end) along one axis of the window of output position o.
fn window(o: u32, stride: u32, pad: u32, kernel: u32, size: u32) -> vec2<u32> {
  let start = i32(o * stride) - i32(pad);
  return vec2<u32>(u32(max(start, 0)), u32(min(start + i32(kernel), i32(size))));
}

// The outputs [begin, end) along one axis whose windows contain input position i:
// o·stride − pad ≤ i < o·stride − pad + kernel.
fn windows_containing(i: u32, stride: u32, pad: u32, kernel: u32, out_size: u32) -> vec2<u32> {
  let reach = i + pad + 1u;
  let begin = select(0u, (reach - kernel + stride - 1u) / stride, reach > kernel);
  return vec2<u32>(begin, min((i + pad) / stride + 1u, out_size));
}

// ---- forward ----------------------------------------------------------------------------------------------

// The scalar kernels (avg_pool, max_pool, avg_pool_backward) read one strided operand and write one contiguous
// result, one invocation per result element: x for the forward passes, the output gradient for the backward.
@group(0) @binding(1) var<storage, read> pool_in: array<f32>;
@group(0) @binding(2) var<storage, read_write> pool_out: array<f32>;

// Result element i of a grid width × height: its x, y, and the offset of its (n, c) plane in pool_in.
fn grid_position(i: u32, width: u32, height: u32) -> vec3<u32> {
  return vec3<u32>(i % width, (i / width) % height, plane_offset(i / (width * height), p.x_strides, p.x_offset));
}

// Σ pool_in over rows × cols of the plane at `base`; with `take_max`, the maximum instead, started from the first
// element rather than a −∞ literal (WGSL has none), so an all-−∞ window gives −∞.
fn window_reduce(base: u32, rows: vec2<u32>, cols: vec2<u32>, take_max: bool) -> f32 {
  var acc = select(0.0, pool_in[base + rows.x * p.x_strides.z + cols.x * p.x_strides.w], take_max);
  for (var y = rows.x; y < rows.y; y++) {
    for (var x = cols.x; x < cols.y; x++) {
      let v = pool_in[base + y * p.x_strides.z + x * p.x_strides.w];
      acc = select(acc + v, max(acc, v), take_max);
    }
  }
  return acc;
}

// Output element i of the forward pass: the sum (or, with `take_max`, the maximum) over its window.
fn pool_window(i: u32, take_max: bool) -> f32 {
  let o = grid_position(i, p.out_w, p.out_h);
  let rows = window(o.y, p.stride_h, p.pad_h, p.kernel_h, p.in_h);
  let cols = window(o.x, p.stride_w, p.pad_w, p.kernel_w, p.in_w);
  return window_reduce(o.z, rows, cols, take_max);
}

@compute @workgroup_size(WG)
fn avg_pool(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = grid1d_index(gid, groups, WG);
  if (i >= p.count) { return; }
  pool_out[i] = pool_window(i, false) * p.scale;
}

@compute @workgroup_size(WG)
fn max_pool(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = grid1d_index(gid, groups, WG);
  if (i >= p.count) { return; }
  pool_out[i] = pool_window(i, true);
}

// The discriminator's shortcut, k2 s2 p0, on contiguous input whose rows are a multiple of 4 pixels: each
// invocation makes two outputs from two vec4 loads. On llvmpipe every load with a per-invocation address is a
// loop over the SIMD lanes, so fewer, wider loads make this 2–3× faster than avg_pool; a GPU is indifferent.
@group(0) @binding(1) var<storage, read> avg4_x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> avg4_out: array<vec2<f32>>;

@compute @workgroup_size(WG)
fn avg_pool_2x2(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let j = grid1d_index(gid, groups, WG);  // output pair (2·j, 2·j + 1)
  if (j >= p.count) { return; }
  let pairs = p.out_w / 2u;
  let rest = j / pairs;
  let oy = rest % p.out_h;
  let plane = rest / p.out_h;
  let top = (p.x_offset + (plane * p.in_h + 2u * oy) * p.in_w) / 4u + j % pairs;
  let s = avg4_x[top] + avg4_x[top + p.in_w / 4u];
  avg4_out[j] = vec2<f32>(s.x + s.y, s.z + s.w) * p.scale;
}

// ---- backward -----------------------------------------------------------------------------------------

// dx[i] = Σ over windows containing i of grad[window] / (kh·kw) (pool_in: the output gradient).
@compute @workgroup_size(WG)
fn avg_pool_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = grid1d_index(gid, groups, WG);
  if (i >= p.count) { return; }
  let o = grid_position(i, p.in_w, p.in_h);
  let rows = windows_containing(o.y, p.stride_h, p.pad_h, p.kernel_h, p.out_h);
  let cols = windows_containing(o.x, p.stride_w, p.pad_w, p.kernel_w, p.out_w);
  pool_out[i] = window_reduce(o.z, rows, cols, false) * p.scale;
}

// The input gradient of avg_pool_2x2 (contiguous output gradient): each invocation writes four inputs of a row
// from two gradients. Rows past the last window (odd H) get zeros.
@group(0) @binding(1) var<storage, read> avg4_grad: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read_write> avg4_dx: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn avg_pool_2x2_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let j = grid1d_index(gid, groups, WG);  // inputs 4·j … 4·j + 3
  if (j >= p.count) { return; }
  let quads = p.in_w / 4u;
  let rest = j / quads;
  let iy = rest % p.in_h;
  let plane = rest / p.in_h;
  if (iy >= 2u * p.out_h) {
    avg4_dx[j] = vec4<f32>(0.0);
    return;
  }
  let g = avg4_grad[(p.x_offset + (plane * p.out_h + iy / 2u) * p.out_w) / 2u + j % quads] * p.scale;
  avg4_dx[j] = g.xxyy;
}

@group(0) @binding(1) var<storage, read> mb_x: array<f32>;
@group(0) @binding(2) var<storage, read> mb_pooled: array<f32>;    // the forward output, contiguous
@group(0) @binding(3) var<storage, read> mb_grad: array<f32>;      // output gradient, read through grad_strides
@group(0) @binding(4) var<storage, read_write> mb_dx: array<f32>;

// True when no input before (iy, ix) in the row-major scan of window (oy, ox) equals v. Called only when v is
// that window's maximum, so it tells whether (iy, ix) is the window's first maximum: PyTorch's argmax.
fn is_first_max(base: u32, oy: u32, ox: u32, iy: u32, ix: u32, v: f32) -> bool {
  let rows = window(oy, p.stride_h, p.pad_h, p.kernel_h, p.in_h);
  let cols = window(ox, p.stride_w, p.pad_w, p.kernel_w, p.in_w);
  for (var y = rows.x; y <= iy; y++) {
    let row_end = select(cols.y, ix, y == iy);
    for (var x = cols.x; x < row_end; x++) {
      if (mb_x[base + y * p.x_strides.z + x * p.x_strides.w] == v) { return false; }
    }
  }
  return true;
}

// dx[i] = Σ over windows whose argmax is i of grad[window]. A window's maximum is read from the forward output,
// so only inputs equal to it pay for the scan that breaks ties.
@compute @workgroup_size(WG)
fn max_pool_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = grid1d_index(gid, groups, WG);
  if (i >= p.count) { return; }
  let ix = i % p.in_w;
  let iy = (i / p.in_w) % p.in_h;
  let plane = i / (p.in_w * p.in_h);
  let x_base = plane_offset(plane, p.x_strides, p.x_offset);
  let grad_base = plane_offset(plane, p.grad_strides, p.grad_offset);
  let pooled_base = plane * p.out_h * p.out_w;
  let v = mb_x[x_base + iy * p.x_strides.z + ix * p.x_strides.w];
  let rows = windows_containing(iy, p.stride_h, p.pad_h, p.kernel_h, p.out_h);
  let cols = windows_containing(ix, p.stride_w, p.pad_w, p.kernel_w, p.out_w);
  var acc = 0.0;
  for (var oy = rows.x; oy < rows.y; oy++) {
    for (var ox = cols.x; ox < cols.y; ox++) {
      if (mb_pooled[pooled_base + oy * p.out_w + ox] == v && is_first_max(x_base, oy, ox, iy, ix, v)) {
        acc += mb_grad[grad_base + oy * p.grad_strides.z + ox * p.grad_strides.w];
      }
    }
  }
  mb_dx[i] = acc;
}
