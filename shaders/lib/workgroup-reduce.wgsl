// combine() over one value from each invocation of a workgroup, as a tree in workgroup memory. The including
// shader defines WG (its workgroup size, a power of two) and combine (a sum, a max). Every invocation of the
// workgroup must call it, from uniform control flow (it holds barriers); every one gets the result.
var<workgroup> tree: array<f32, WG>;

fn workgroup_reduce(lid: u32, value: f32) -> f32 {
  tree[lid] = value;
  workgroupBarrier();
  for (var step = WG / 2u; step > 0u; step /= 2u) {
    if (lid < step) { tree[lid] = combine(tree[lid], tree[lid + step]); }
    workgroupBarrier();
  }
  return tree[0];
}
