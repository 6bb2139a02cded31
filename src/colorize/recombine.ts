// Output at the page's own resolution (browser-neutral). The network sees the page at its working size (512
// wide for v1); enlarging its colour to a 1,600-pixel scan would blur ink and text. So the colour is enlarged
// and the page's own fine detail put back:
//
//   out = up(colour) + (grey − up(down(grey)))        per pixel, the same amount added to R, G and B
//
// grey is the page's luma (REFERENCE §2 weights), down() the area resize to the working size that the network's
// input went through, up() the enlargement back to the page's size (bilinear; area when the page is smaller).
// grey − up(down(grey)) is exactly the detail the resize removed: the crisp edges of ink and lettering. Adding
// the same amount to R, G and B changes luma only (Y' = 0.2125 R + 0.7154 G + 0.0721 B has weights summing to
// 1; the colour differences B − Y', R − Y' do not move), so this is a chroma transfer: the network's hue and
// saturation, the network's low-frequency lightness, the page's high-frequency lightness. A network output
// that just reproduces its grey input gives back the page exactly. Values are clamped to [0, 1].
//
// API
//   recombine(page, colour) → Plane   page: the original (RGB or grey, any size); colour: the network's RGB at
//                                     the working size, padding already cropped.
import { createPlane, toGrey, type Plane } from '../data/plane.js';
import { resample, resizeArea } from '../data/resize.js';

export function recombine(page: Plane, colour: Plane): Plane {
  if (colour.channels !== 3) throw new Error(`recombine takes an RGB colour plane, got ${colour.channels} channels.`);
  const { width, height } = page;
  const grey = toGrey(page);
  const lowGrey = resample(resizeArea(grey, colour.width, colour.height), width, height);
  const up = resample(colour, width, height);
  const out = new Float32Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    const detail = grey.data[i] - lowGrey.data[i];
    for (let c = 0; c < 3; c++) {
      const v = up.data[3 * i + c] + detail;
      out[3 * i + c] = v < 0 ? 0 : v > 1 ? 1 : v;
    }
  }
  return createPlane(width, height, 3, out);
}
