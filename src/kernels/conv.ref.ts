// Float64 references of shaders/conv.wgsl: direct loops over the PyTorch definitions.
import { conv2dShape, convTranspose2dShape, type ConvGeometry, type Epilogue } from './conv.js';
import { activationReference } from './elementwise.js';
import type { HostTensor } from './host.js';

const activate = (v: number, epilogue?: Epilogue) => (epilogue ? activationReference(epilogue.activation, v, epilogue.slope) : v);

export function conv2dReference(x: HostTensor, w: HostTensor, bias: HostTensor | null, geom: ConvGeometry, epilogue?: Epilogue): HostTensor {
  const [n, cout, ho, wo] = conv2dShape(x.shape, w.shape, geom);
  const [, cin, h, wd] = x.shape;
  const [, cinG, kh, kw] = w.shape;
  const coutG = cout / geom.groups;
  const out = new Float64Array(n * cout * ho * wo);
  for (let b = 0; b < n; b++) {
    for (let co = 0; co < cout; co++) {
      const g = Math.floor(co / coutG);
      for (let oy = 0; oy < ho; oy++) {
        for (let ox = 0; ox < wo; ox++) {
          let s = bias ? bias.data[co] : 0;
          for (let c = 0; c < cinG; c++) {
            const ci = g * cinG + c;
            for (let ky = 0; ky < kh; ky++) {
              const iy = oy * geom.stride[0] - geom.padding[0] + ky * geom.dilation[0];
              if (iy < 0 || iy >= h) continue;
              for (let kx = 0; kx < kw; kx++) {
                const ix = ox * geom.stride[1] - geom.padding[2] + kx * geom.dilation[1];
                if (ix < 0 || ix >= wd) continue;
                s += w.data[((co * cinG + c) * kh + ky) * kw + kx] * x.data[((b * cin + ci) * h + iy) * wd + ix];
              }
            }
          }
          out[((b * cout + co) * ho + oy) * wo + ox] = activate(s, epilogue);
        }
      }
    }
  }
  return { shape: [n, cout, ho, wo], data: out };
}

/** Scatter form: every input pixel adds its weighted kernel into the output (the adjoint of conv2d). */
export function convTranspose2dReference(
  x: HostTensor,
  w: HostTensor,
  bias: HostTensor | null,
  geom: ConvGeometry,
  outputPadding: [number, number],
  epilogue?: Epilogue,
): HostTensor {
  const [n, cout, ho, wo] = convTranspose2dShape(x.shape, w.shape, geom, outputPadding);
  const [, cin, h, wd] = x.shape;
  const [, coutG, kh, kw] = w.shape;
  const cinG = cin / geom.groups;
  const out = new Float64Array(n * cout * ho * wo);
  for (let b = 0; b < n; b++) {
    for (let ci = 0; ci < cin; ci++) {
      const g = Math.floor(ci / cinG);
      for (let iy = 0; iy < h; iy++) {
        for (let ix = 0; ix < wd; ix++) {
          const v = x.data[((b * cin + ci) * h + iy) * wd + ix];
          for (let c = 0; c < coutG; c++) {
            const co = g * coutG + c;
            for (let ky = 0; ky < kh; ky++) {
              const oy = iy * geom.stride[0] - geom.padding[0] + ky * geom.dilation[0];
              if (oy < 0 || oy >= ho) continue;
              for (let kx = 0; kx < kw; kx++) {
                const ox = ix * geom.stride[1] - geom.padding[2] + kx * geom.dilation[1];
                if (ox < 0 || ox >= wo) continue;
                out[((b * cout + co) * ho + oy) * wo + ox] += v * w.data[((ci * coutG + c) * kh + ky) * kw + kx];
              }
            }
          }
        }
      }
    }
  }
  if (bias || epilogue) {
    const plane = ho * wo;
    for (let i = 0; i < out.length; i++) out[i] = activate(out[i] + (bias ? bias.data[Math.floor(i / plane) % cout] : 0), epilogue);
  }
  return { shape: [n, cout, ho, wo], data: out };
}

/** dL/dx of conv2d given dL/dy: the transposed convolution, its output padded to the input's size. */
export function conv2dInputGradReference(dy: HostTensor, w: HostTensor, geom: ConvGeometry, inputShape: readonly number[]): HostTensor {
  const [, , h, wd] = inputShape;
  const [, , kh, kw] = w.shape;
  const [, , ho, wo] = dy.shape;
  // The rows and columns conv2d's floor formula dropped (fewer than a stride).
  const outputPadding: [number, number] = [
    h - ((ho - 1) * geom.stride[0] - geom.padding[0] - geom.padding[1] + geom.dilation[0] * (kh - 1) + 1),
    wd - ((wo - 1) * geom.stride[1] - geom.padding[2] - geom.padding[3] + geom.dilation[1] * (kw - 1) + 1),
  ];
  return convTranspose2dReference(dy, w, null, geom, outputPadding);
}

/** dL/dw of conv2d: Σ over images and output pixels of dL/dy times the input each weight met. */
export function conv2dWeightGradReference(dy: HostTensor, x: HostTensor, weightShape: readonly number[], geom: ConvGeometry): HostTensor {
  const [n, cin, h, wd] = x.shape;
  const [cout, cinG, kh, kw] = weightShape;
  const [, , ho, wo] = dy.shape;
  const coutG = cout / geom.groups;
  const out = new Float64Array(cout * cinG * kh * kw);
  for (let b = 0; b < n; b++) {
    for (let co = 0; co < cout; co++) {
      const g = Math.floor(co / coutG);
      for (let oy = 0; oy < ho; oy++) {
        for (let ox = 0; ox < wo; ox++) {
          const d = dy.data[((b * cout + co) * ho + oy) * wo + ox];
          for (let c = 0; c < cinG; c++) {
            for (let ky = 0; ky < kh; ky++) {
              const iy = oy * geom.stride[0] - geom.padding[0] + ky * geom.dilation[0];
              if (iy < 0 || iy >= h) continue;
              for (let kx = 0; kx < kw; kx++) {
                const ix = ox * geom.stride[1] - geom.padding[2] + kx * geom.dilation[1];
                if (ix < 0 || ix >= wd) continue;
                out[((co * cinG + c) * kh + ky) * kw + kx] += d * x.data[((b * cin + g * cinG + c) * h + iy) * wd + ix];
              }
            }
          }
        }
      }
    }
  }
  return { shape: [cout, cinG, kh, kw], data: out };
}
