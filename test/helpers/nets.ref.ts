// Float64 reference forwards of every network in src/nets, written against the published tensor names
// (../shared/reference/state-dicts.txt) and built only from the kernels' float64 references plus a few
// loops written out here (concat, pixel (un)shuffle, batch norm, SE). No GPU code runs on this path.
import type { StateDict } from '../../src/nets/module.js';
import { conv2dReference, convTranspose2dReference } from '../../src/kernels/conv.ref.js';
import { binaryReference, unaryReference } from '../../src/kernels/elementwise.ref.js';
import type { HostTensor } from '../../src/kernels/host.js';
import { matmulReference } from '../../src/kernels/matmul.ref.js';
import { avgPool2dReference, maxPool2dReference } from '../../src/kernels/pool.ref.js';
import type { PoolGeometry } from '../../src/kernels/pool.js';
import { reduceReference } from '../../src/kernels/reduce.ref.js';
import { normalizedWeight, powerIteration } from './spectral-norm.ref.js';

/** Weights by published name, in float64 (the exact float32 values the GPU holds). */
export type Weights = Map<string, HostTensor>;

export function hostWeights(state: StateDict): Weights {
  return new Map([...state].map(([name, e]) => [name, { shape: [...e.shape], data: Float64Array.from(e.data) }]));
}

function get(w: Weights, name: string): HostTensor {
  const t = w.get(name);
  if (!t) throw new Error(`reference: no tensor "${name}" in the weights`);
  return t;
}

// ---- primitives ------------------------------------------------------------------------------------------

type Act = 'none' | 'relu' | 'leakyRelu';

interface ConvSpec {
  stride?: number;
  padding?: number;
  dilation?: number;
  groups?: number;
  act?: Act;
}

const epilogue = (act: Act = 'none') => ({ activation: act, slope: 0.2 });
const geometry = ({ stride = 1, padding = 0, dilation = 1, groups = 1 }: ConvSpec) => ({
  stride: [stride, stride] as [number, number],
  padding: [padding, padding, padding, padding] as [number, number, number, number],
  dilation: [dilation, dilation] as [number, number],
  groups,
});

/** conv2d with `<prefix>.weight` and `<prefix>.bias` if present. */
function conv(w: Weights, prefix: string, x: HostTensor, spec: ConvSpec = {}, weight = get(w, `${prefix}.weight`)): HostTensor {
  return conv2dReference(x, weight, w.get(`${prefix}.bias`) ?? null, geometry(spec), epilogue(spec.act));
}

function convTranspose(w: Weights, prefix: string, x: HostTensor, stride: number, act: Act): HostTensor {
  return convTranspose2dReference(x, get(w, `${prefix}.weight`), get(w, `${prefix}.bias`), geometry({ stride, padding: 1 }), [stride - 1, stride - 1], epilogue(act));
}

/**
 * The published spectral-norm conv at `<prefix>.module`: one power iteration from the stored u (the new u, v
 * written back into `w`, as the GPU module does with its buffers), then conv with W̄/σ.
 */
function spectralWeight(w: Weights, prefix: string): HostTensor {
  const bar = get(w, `${prefix}.module.weight_bar`);
  const u0 = get(w, `${prefix}.module.weight_u`);
  const matrix = { shape: [bar.shape[0], bar.data.length / bar.shape[0]], data: bar.data };
  const { u, v } = powerIteration(matrix, u0.data);
  w.set(`${prefix}.module.weight_u`, { shape: u0.shape, data: u });
  w.set(`${prefix}.module.weight_v`, { shape: [v.length], data: v });
  return { shape: bar.shape, data: normalizedWeight(matrix, u, v).data };
}

function spectralConv(w: Weights, prefix: string, x: HostTensor, spec: ConvSpec = {}): HostTensor {
  return conv2dReference(x, spectralWeight(w, prefix), w.get(`${prefix}.module.bias`) ?? null, geometry(spec), epilogue(spec.act));
}

const leaky = (x: HostTensor) => unaryReference('leakyRelu', x, 0.2);
const relu = (x: HostTensor) => unaryReference('relu', x);
const tanh = (x: HostTensor) => unaryReference('tanh', x);
const add = (a: HostTensor, b: HostTensor) => binaryReference('add', a, b);

/** Along the channel axis of NCHW tensors. */
function concatChannels(...xs: HostTensor[]): HostTensor {
  const [n, , h, wd] = xs[0].shape;
  const plane = h * wd;
  const c = xs.reduce((s, x) => s + x.shape[1], 0);
  const out = new Float64Array(n * c * plane);
  for (let b = 0; b < n; b++) {
    let at = b * c * plane;
    for (const x of xs) {
      const size = x.shape[1] * plane;
      out.set(x.data.subarray(b * size, (b + 1) * size), at);
      at += size;
    }
  }
  return { shape: [n, c, h, wd], data: out };
}

function channelSlice(x: HostTensor, from: number, count: number): HostTensor {
  const [n, c, h, wd] = x.shape;
  const plane = h * wd;
  const out = new Float64Array(n * count * plane);
  for (let b = 0; b < n; b++) out.set(x.data.subarray((b * c + from) * plane, (b * c + from + count) * plane), b * count * plane);
  return { shape: [n, count, h, wd], data: out };
}

/** PyTorch's pixel_shuffle(2): input channel 4c + 2i + j → output channel c at (2y + i, 2x + j). */
function pixelShuffle2(x: HostTensor): HostTensor {
  const [n, channels, h, wd] = x.shape;
  const c = channels / 4;
  const out = new Float64Array(x.data.length);
  for (let b = 0; b < n; b++)
    for (let k = 0; k < channels; k++)
      for (let y = 0; y < h; y++)
        for (let xx = 0; xx < wd; xx++) {
          const [oc, i, j] = [Math.floor(k / 4), Math.floor((k % 4) / 2), k % 2];
          out[((b * c + oc) * 2 * h + 2 * y + i) * 2 * wd + 2 * xx + j] = x.data[((b * channels + k) * h + y) * wd + xx];
        }
  return { shape: [n, c, 2 * h, 2 * wd], data: out };
}

/** The inverse: (2y + i, 2x + j) of channel c → channel 4c + 2i + j at (y, x). */
function pixelUnshuffle2(x: HostTensor): HostTensor {
  const [n, c, height, width] = x.shape;
  const [h, wd] = [height / 2, width / 2];
  const out = new Float64Array(x.data.length);
  for (let b = 0; b < n; b++)
    for (let k = 0; k < c; k++)
      for (let y = 0; y < height; y++)
        for (let xx = 0; xx < width; xx++) {
          const oc = 4 * k + 2 * (y % 2) + (xx % 2);
          out[((b * 4 * c + oc) * h + Math.floor(y / 2)) * wd + Math.floor(xx / 2)] = x.data[((b * c + k) * height + y) * width + xx];
        }
  return { shape: [n, 4 * c, h, wd], data: out };
}

function batchNorm(w: Weights, prefix: string, x: HostTensor): HostTensor {
  const [, c, h, wd] = x.shape;
  const [mean, variance, gamma, beta] = ['running_mean', 'running_var', 'weight', 'bias'].map((s) => get(w, `${prefix}.${s}`).data);
  const out = new Float64Array(x.data.length);
  for (let i = 0; i < out.length; i++) {
    const k = Math.floor(i / (h * wd)) % c;
    out[i] = ((x.data[i] - mean[k]) / Math.sqrt(variance[k] + 1e-5)) * gamma[k] + beta[k];
  }
  return { shape: [...x.shape], data: out };
}

function pool(x: HostTensor, kernel: number, stride: number, padding: number): PoolGeometry {
  const [n, c, h, wd] = x.shape;
  const out = (size: number) => Math.floor((size + 2 * padding - kernel) / stride) + 1;
  return { input: [n, c, h, wd], output: [n, c, out(h), out(wd)], kernel: [kernel, kernel], stride: [stride, stride], padding: [padding, padding] };
}

/** x · sigmoid(conv2(relu(conv1(mean_hw x)))), the 1×1 convs spectrally normalised when `spectral`. */
function squeezeExcitation(w: Weights, prefix: string, x: HostTensor, spectral: boolean): HostTensor {
  const [, , h, wd] = x.shape;
  const pooled = reduceReference('sum', x, [2, 3], true, 1 / (h * wd));
  const c = spectral ? spectralConv : conv;
  const gates = unaryReference('sigmoid', c(w, `${prefix}.conv2`, c(w, `${prefix}.conv1`, pooled, { act: 'relu' })));
  return binaryReference('mul', x, gates);
}

/** The generators' and the discriminator's ResNeXt bottleneck. */
function resnextBlock(w: Weights, p: string, x: HostTensor, cardinality: number, dilation: number, stride: 1 | 2, spectral = false): HostTensor {
  const c = spectral ? spectralConv : conv;
  let b = c(w, `${p}.conv_reduce`, x, { act: 'leakyRelu' });
  b = c(w, `${p}.conv_conv`, b, { stride, padding: dilation, dilation, groups: cardinality, act: 'leakyRelu' });
  b = squeezeExcitation(w, `${p}.selayer`, c(w, `${p}.conv_expand`, b), spectral);
  return add(stride === 2 ? avgPool2dReference(x, pool(x, 2, 2, 0)) : x, b);
}

interface TunnelSpec {
  cardinality: number;
  dilations: readonly number[];
}

function tunnel(w: Weights, p: string, x: HostTensor, spec: TunnelSpec): HostTensor {
  let y = conv(w, `${p}.0`, x, { padding: 1, act: 'leakyRelu' });
  spec.dilations.forEach((d, i) => (y = resnextBlock(w, `${p}.2.${i}`, y, spec.cardinality, d, 1)));
  return leaky(pixelShuffle2(conv(w, `${p}.3`, y, { padding: 1 })));
}

function encoderBlock(w: Weights, p: string, x: HostTensor, stride: number): HostTensor {
  return conv(w, `${p}.2`, conv(w, `${p}.0`, x, { stride, padding: 1, act: 'leakyRelu' }), { padding: 1, act: 'leakyRelu' });
}

// ---- networks --------------------------------------------------------------------------------------------

/** SE-ResNeXt: [stem after ReLU, layer1, layer2, …]. */
export function seResNeXtReference(w: Weights, cfg: { cardinality: number; stages: readonly number[]; maxPool: boolean }, x: HostTensor): HostTensor[] {
  const stem = relu(batchNorm(w, 'bn1', conv(w, 'conv1', x, { stride: 2, padding: 3 })));
  const out = [stem];
  let y = cfg.maxPool ? maxPool2dReference(stem, pool(stem, 3, 2, 1)) : stem;
  cfg.stages.forEach((blocks, s) => {
    for (let b = 0; b < blocks; b++) {
      const p = `layer${s + 1}.${b}`;
      const stride = s > 0 && b === 0 ? 2 : 1;
      let r = relu(batchNorm(w, `${p}.bn1`, conv(w, `${p}.conv1`, y)));
      r = relu(batchNorm(w, `${p}.bn2`, conv(w, `${p}.conv2`, r, { stride, padding: 1, groups: cfg.cardinality })));
      r = squeezeExcitation(w, `${p}.selayer`, batchNorm(w, `${p}.bn3`, conv(w, `${p}.conv3`, r)), false);
      const shortcut = w.has(`${p}.downsample.0.weight`) ? batchNorm(w, `${p}.downsample.1`, conv(w, `${p}.downsample.0`, y, { stride })) : y;
      y = relu(add(shortcut, r));
    }
    out.push(y);
  });
  return out;
}

export interface GeneratorV1Spec {
  tunnels: readonly [TunnelSpec, TunnelSpec, TunnelSpec, TunnelSpec];
}

/** v1 generator on its 6-channel input and the extractor's H/8 features; the guide when `training`. */
export function generatorV1Reference(w: Weights, spec: GeneratorV1Spec, input: HostTensor, features: HostTensor, training: boolean) {
  let local = features;
  for (const [i, stride] of [[0, 1], [2, 2], [4, 1]]) local = conv(w, `feature_conv.network.${i}`, local, { stride, padding: 1, act: 'relu' });
  const skips: HostTensor[] = [];
  let x = input;
  for (let i = 0; i < 5; i++) skips.push((x = encoderBlock(w, `to${i}`, x, i === 0 ? 1 : 2)));
  const deepest = tunnel(w, 'tunnel4', concatChannels(skips[4], local), spec.tunnels[0]);
  let y = tunnel(w, 'tunnel3', concatChannels(deepest, skips[3]), spec.tunnels[1]);
  y = tunnel(w, 'tunnel2', concatChannels(y, skips[2]), spec.tunnels[2]);
  y = tunnel(w, 'tunnel1', concatChannels(y, skips[1]), spec.tunnels[3]);
  const image = tanh(conv(w, 'exit', concatChannels(y, skips[0]), { padding: 1 }));
  if (!training) return { image, guide: null };
  let g = deepest;
  for (const i of [0, 2, 4]) g = convTranspose(w, `deconv_for_decoder.${i}`, g, 2, 'leakyRelu');
  return { image, guide: tanh(convTranspose(w, 'deconv_for_decoder.6', g, 1, 'none')) };
}

/** v2 generator on its 5-channel input (encoder on channel 0). */
export function generatorV2Reference(
  w: Weights,
  spec: GeneratorV1Spec & { encoder: { cardinality: number; stages: readonly number[]; maxPool: boolean } },
  input: HostTensor,
): HostTensor {
  const encoderWeights: Weights = new Map([...w].filter(([n]) => n.startsWith('encoder.')).map(([n, t]) => [n.slice('encoder.'.length), t]));
  const [stem, layer1, layer2, layer3] = seResNeXtReference(encoderWeights, spec.encoder, channelSlice(input, 0, 1));
  const x0 = encoderBlock(w, 'to0', input, 1);
  const x3 = encoderBlock(w, 'to3', encoderBlock(w, 'to2', encoderBlock(w, 'to1', x0, 2), 2), 2);
  let y = tunnel(w, 'tunnel4', concatChannels(layer3, x3), spec.tunnels[0]);
  y = tunnel(w, 'tunnel3', concatChannels(y, layer2), spec.tunnels[1]);
  y = tunnel(w, 'tunnel2', concatChannels(y, layer1, stem), spec.tunnels[2]);
  return tanh(conv(w, 'exit.2', conv(w, 'exit.0', concatChannels(y, x0), { padding: 1, act: 'leakyRelu' })));
}

/** v1 discriminator: one logit per image; updates the u, v entries of `w` like the module's buffers. */
export function discriminatorV1Reference(w: Weights, cardinality: number, color: HostTensor): HostTensor {
  let x = spectralConv(w, 'feed.0', color, { padding: 1, act: 'leakyRelu' });
  x = spectralConv(w, 'feed.2', x, { stride: 2, act: 'leakyRelu' });
  for (const [first, padding] of [[4, 0], [8, 0], [12, 1]]) {
    x = resnextBlock(w, `feed.${first}`, x, cardinality, 1, 1, true);
    x = resnextBlock(w, `feed.${first + 1}`, x, cardinality, 1, 2, true);
    x = spectralConv(w, `feed.${first + 2}`, x, { padding, act: 'leakyRelu' });
  }
  for (const [i, stride] of [[16, 1], [17, 2], [18, 1], [19, 1]] as const) x = resnextBlock(w, `feed.${i}`, x, cardinality, 1, stride, true);
  const [n, c, h, wd] = x.shape;
  const pooled = reduceReference('sum', x, [2, 3], false, 1 / (h * wd));
  const weight = get(w, 'out.weight');
  const transposed = { shape: [c, 1], data: Float64Array.from(weight.data) };
  return add(matmulReference({ shape: [n, c], data: pooled.data }, transposed), get(w, 'out.bias'));
}

/** VGG16 features[:9] on ImageNet-normalised (img + 1)/2. */
export function vgg16FeaturesReference(w: Weights, image: HostTensor): HostTensor {
  const mean = [0.485, 0.456, 0.406];
  const std = [0.229, 0.224, 0.225];
  const plane = image.shape[2] * image.shape[3];
  const normalised = { shape: image.shape, data: image.data.map((v, i) => ((v + 1) / 2 - mean[Math.floor(i / plane) % 3]) / std[Math.floor(i / plane) % 3]) };
  let x = conv(w, 'features.2', conv(w, 'features.0', normalised, { padding: 1, act: 'relu' }), { padding: 1, act: 'relu' });
  x = maxPool2dReference(x, pool(x, 2, 2, 0));
  return conv(w, 'features.7', conv(w, 'features.5', x, { padding: 1, act: 'relu' }), { padding: 1, act: 'relu' });
}

/** FFDNet: clamp(x − noise, 0, 1), odd sizes padded by repeating the last row/column. */
export function ffdnetReference(w: Weights, layers: number, image: HostTensor, sigma: number): HostTensor {
  const [n, c, h, wd] = image.shape;
  const [ph, pw] = [h + (h % 2), wd + (wd % 2)];
  const padded = new Float64Array(n * c * ph * pw);
  for (let p = 0; p < n * c; p++)
    for (let y = 0; y < ph; y++)
      for (let x = 0; x < pw; x++) padded[(p * ph + y) * pw + x] = image.data[(p * h + Math.min(y, h - 1)) * wd + Math.min(x, wd - 1)];
  const x = { shape: [n, c, ph, pw], data: padded };
  const sigmaMap = { shape: [n, 3, ph / 2, pw / 2], data: new Float64Array((n * 3 * ph * pw) / 4).fill(sigma) };
  const p = 'intermediate_dncnn.itermediate_dncnn';
  let y = conv(w, `${p}.0`, concatChannels(sigmaMap, pixelUnshuffle2(x)), { padding: 1, act: 'relu' });
  for (let i = 0; i < layers - 2; i++) y = relu(batchNorm(w, `${p}.${3 * i + 3}`, conv(w, `${p}.${3 * i + 2}`, y, { padding: 1 })));
  const noise = pixelShuffle2(conv(w, `${p}.${3 * (layers - 2) + 2}`, y, { padding: 1 }));
  const out = new Float64Array(n * c * h * wd);
  for (let q = 0; q < n * c; q++)
    for (let yy = 0; yy < h; yy++)
      for (let xx = 0; xx < wd; xx++) {
        const i = (q * ph + yy) * pw + xx;
        out[(q * h + yy) * wd + xx] = Math.min(Math.max(padded[i] - noise.data[i], 0), 1);
      }
  return { shape: [n, c, h, wd], data: out };
}
