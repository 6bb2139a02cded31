// The index of an invocation (or, with workgroup_size 1 and workgroup ids, of a workgroup) in a 1-D launch that
// the host folded into a 2-D grid (grid1d in src/kernels/uniforms.ts): x runs up to the per-dimension limit,
// y counts rows of x.
fn grid1d_index(id: vec3<u32>, groups: vec3<u32>, workgroup_size: u32) -> u32 {
  return id.x + id.y * groups.x * workgroup_size;
}
