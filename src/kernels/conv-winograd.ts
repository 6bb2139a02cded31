// The forward of a 3×3 stride-1 convolution by Winograd's F(2×2, 3×3) (shaders/winograd.wgsl): the source and
// the weight transformed into 16 planes, 16 matrix products through the matmul kernel, and the transform back
// with the bias and activation fused. 16 multiplies per 2×2 results and input channel instead of 36, at the cost
// of three passes over 4× the source and the result. Rounding stays that of the direct sum (every transform
// entry is 0, ±1 or ½). src/kernels/conv.ts decides when it runs. No autograd here.
import shader from '../../shaders/winograd.wgsl';
import { engine } from '../engine/engine.js';
import { Tensor } from '../engine/tensor.js';
import { activationCode, fusedActivation, type Activation } from './elementwise.js';
import { batchedMatmul } from './matmul.js';
import { grid1d, shaderSource, uniformStruct } from './uniforms.js';

const Params = uniformStruct('WinogradParams', {
  /** Invocations: channels × columns (input, output) or output × input channels (weight). */
  count: 'u32',
  /** Channels of the pass's planes: the source's (input) or the result's (output). */
  channels: 'u32',
  /** The chunk's columns (2×2 tiles of the batch, image after image), and the batch-wide index of its first. */
  columns: 'u32',
  columnStart: 'u32',
  /** 2×2 tiles per image, and per row of the result. */
  tiles: 'u32',
  tilesX: 'u32',
  inH: 'u32',
  inW: 'u32',
  outH: 'u32',
  outW: 'u32',
  /** Top and left padding. */
  padY: 'i32',
  padX: 'i32',
  hasBias: 'u32',
  /** LeakyReLU slope. */
  alpha: 'f32',
});

const source = shaderSource(shader, Params, fusedActivation);
const WG_X = 64;

/** Transform planes per convolution: the 4×4 patch of F(2×2, 3×3). */
const PLANES = 16;
/** The most bytes the transformed source (or the products) of one chunk of tiles may take. */
const CHUNK_BYTES = 64 * 2 ** 20;

export interface WinogradEpilogue {
  activation: Activation;
  slope: number;
}

export interface WinogradOptions {
  /** w is [C, O, 3, 3] and is applied flipped (the input gradient's convolution, see winogradInputGrad). */
  flipWeight?: boolean;
  /** The most bytes the transformed source of one chunk of tiles may take (tests make it small). */
  chunkBytes?: number;
}

/**
 * y = act(conv2d(x, w) + bias) for x [N, C, H, W] and w [O, C, 3, 3] (contiguous, offset 0), stride 1, dilation 1,
 * one group, `padding` [top, bottom, left, right]; the result is [N, O, outH, outW].
 */
export function winogradConv2d(
  x: Tensor, w: Tensor, bias: Tensor | null, padding: readonly number[], outH: number, outW: number, epilogue: WinogradEpilogue,
  { flipWeight = false, chunkBytes = CHUNK_BYTES }: WinogradOptions = {},
): Tensor {
  const [n, c, inH, inW] = x.shape;
  const o = flipWeight ? w.shape[1] : w.shape[0];
  const tilesX = Math.ceil(outW / 2);
  const tiles = Math.ceil(outH / 2) * tilesX;
  const e = engine();
  const shape = `3×3 ${c}→${o}${flipWeight ? ' input grad' : ''} @${outH}×${outW}${n > 1 ? ` ×${n}` : ''}`;
  const common = { tiles, tilesX, inH, inW, outH, outW, padY: padding[0], padX: padding[2], hasBias: bias ? 1 : 0, alpha: epilogue.slope };

  const U = Tensor.empty([PLANES, o, c]);
  e.dispatch(
    { family: 'winograd', source, entry: 'winograd_weight', constants: { WG_X, FLIP: flipWeight ? 1 : 0 } },
    Params.pack({ ...common, count: o * c, channels: c, columns: 0, columnStart: 0 }),
    [w.storage.buffer, U.storage.buffer],
    grid1d(o * c, WG_X),
    { bytes: 4 * (w.size + U.size), shape },
  );
  const y = Tensor.empty([n, o, outH, outW]);
  // The batch's tiles a chunk at a time: the transformed source and products of a chunk fit one storage binding
  // and CHUNK_BYTES, whatever the page.
  const budget = Math.min(chunkBytes, e.gpu.limits.maxStorageBufferBindingSize);
  const chunk = Math.max(1, Math.floor(budget / (4 * PLANES * Math.max(c, o))));
  for (let columnStart = 0; columnStart < n * tiles; columnStart += chunk) {
    const columns = Math.min(chunk, n * tiles - columnStart);
    const V = Tensor.empty([PLANES, c, columns]);
    e.dispatch(
      { family: 'winograd', source, entry: 'winograd_input', constants: { WG_X } },
      Params.pack({ ...common, count: c * columns, channels: c, columns, columnStart }),
      [x.storage.buffer, V.storage.buffer],
      grid1d(c * columns, WG_X),
      { bytes: 4 * (x.size * (columns / (n * tiles)) + V.size), shape },
    );
    const M = batchedMatmul(U, V);
    V.dispose();
    e.dispatch(
      { family: 'winograd', source, entry: 'winograd_output', constants: { WG_X, ACT: activationCode(epilogue.activation) } },
      Params.pack({ ...common, count: o * columns, channels: o, columns, columnStart }),
      // Without a bias the binding still needs a buffer; the kernel never reads it.
      [M.storage.buffer, (bias ?? M).storage.buffer, y.storage.buffer],
      grid1d(o * columns, WG_X),
      { bytes: 4 * (M.size + y.size * (columns / (n * tiles))), shape },
    );
    M.dispose();
  }
  U.dispose();
  return y;
}

/**
 * dL/dx of a 3×3 stride-1 convolution with weight w [O, C, 3, 3] and `padding` (each side at most 2), from dL/dy
 * [N, O, H, W]: the convolution of dy with w's taps reversed and its channels swapped, padded by 2 − padding, so
 * the result has the input's size [N, C, inH, inW].
 */
export function winogradInputGrad(dy: Tensor, w: Tensor, padding: readonly number[], inH: number, inW: number, options: Omit<WinogradOptions, 'flipWeight'> = {}): Tensor {
  const full = padding.map((p) => 2 - p);
  return winogradConv2d(dy, w, null, full, inH, inW, { activation: 'none', slope: 0 }, { ...options, flipWeight: true });
}
