// Sub-pixel rearrangement (Shi et al. 2016) with PyTorch's channel order: input channel c·r² + i·r + j of
// pixelShuffle goes to output channel c at (r·y + i, r·x + j); pixelUnshuffle is its inverse. Both are a reshape,
// a permute and one strided copy, so their gradients come from those view ops.
import type { Tensor } from '../engine/tensor.js';
import { permute, reshape } from './shape.js';

function checkFactor(op: string, r: number): void {
  if (!Number.isInteger(r) || r < 1) throw new Error(`${op}: the factor must be an integer ≥ 1, got ${r}.`);
}

/** [N, C·r², H, W] → [N, C, H·r, W·r] (torch.nn.functional.pixel_shuffle). */
export function pixelShuffle(x: Tensor, r: number): Tensor {
  checkFactor('pixelShuffle', r);
  if (x.rank !== 4) throw new Error(`pixelShuffle expects an NCHW tensor of rank 4, got [${x.shape.join(', ')}].`);
  const [n, channels, h, w] = x.shape;
  if (channels % (r * r)) {
    throw new Error(`pixelShuffle: ${channels} channels of [${x.shape.join(', ')}] are not divisible by r² = ${r * r}.`);
  }
  const c = channels / (r * r);
  // [N, C, i, j, H, W] → [N, C, H, i, W, j]
  const spread = permute(reshape(x, [n, c, r, r, h, w]), [0, 1, 4, 2, 5, 3]);
  return reshape(spread, [n, c, h * r, w * r]);
}

/** [N, C, H·r, W·r] → [N, C·r², H, W] (torch.nn.functional.pixel_unshuffle). */
export function pixelUnshuffle(x: Tensor, r: number): Tensor {
  checkFactor('pixelUnshuffle', r);
  if (x.rank !== 4) throw new Error(`pixelUnshuffle expects an NCHW tensor of rank 4, got [${x.shape.join(', ')}].`);
  const [n, c, height, width] = x.shape;
  if (height % r || width % r) {
    throw new Error(`pixelUnshuffle: the spatial size ${height}×${width} of [${x.shape.join(', ')}] is not divisible by r = ${r}.`);
  }
  const [h, w] = [height / r, width / r];
  // [N, C, H, i, W, j] → [N, C, i, j, H, W]
  const gathered = permute(reshape(x, [n, c, h, r, w, r]), [0, 1, 3, 5, 2, 4]);
  return reshape(gathered, [n, c * r * r, h, w]);
}
