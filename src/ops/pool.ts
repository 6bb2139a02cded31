// Differentiable 2-D pooling over NCHW tensors, with PyTorch's semantics (floor mode; count_include_pad for
// the average; first maximum in scan order takes the max's gradient).
import { record } from '../autograd/tape.js';
import type { Tensor } from '../engine/tensor.js';
import {
  avgPool2dBackward, avgPool2dForward, maxPool2dBackward, maxPool2dForward, poolGeometry, type PoolSize,
} from '../kernels/pool.js';
import { mean } from './reduce.js';

export type { PoolSize };

/** Window means (torch.nn.functional.avg_pool2d); the stride defaults to the kernel size. */
export function avgPool2d(x: Tensor, kernel: PoolSize, stride: PoolSize = kernel, padding: PoolSize = 0): Tensor {
  const geometry = poolGeometry('avgPool2d', x.shape, kernel, stride, padding);
  const y = avgPool2dForward(x, geometry);
  return record(y, 'avgPool2d', [x], (g) => [avgPool2dBackward(g, geometry)]);
}

/** Window maxima (torch.nn.functional.max_pool2d); the stride defaults to the kernel size. */
export function maxPool2d(x: Tensor, kernel: PoolSize, stride: PoolSize = kernel, padding: PoolSize = 0): Tensor {
  const geometry = poolGeometry('maxPool2d', x.shape, kernel, stride, padding);
  const y = maxPool2dForward(x, geometry);
  return record(y, 'maxPool2d', [x], (g) => [maxPool2dBackward(x, y, g, geometry)]);
}

/** Global average pooling to [N, C, 1, 1] (adaptive_avg_pool2d with output size 1). */
export function adaptiveAvgPool1x1(x: Tensor): Tensor {
  if (x.rank !== 4) throw new Error(`adaptiveAvgPool1x1 expects an NCHW tensor of rank 4, got [${x.shape.join(', ')}].`);
  return mean(x, [2, 3], true);
}
