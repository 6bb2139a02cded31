// Output at the page's own resolution (browser-neutral). The network sees the page at its working size (512
// wide for v1); its colour is enlarged back to the page's size (bilinear; area when the page is smaller) and
// blended with the page itself, so that ink and lettering come from the page, whatever the network does.
// `grey` is the page's luma (REFERENCE §2 weights), `low` = up(down(grey)) the page as the network saw it
// (down: the area resize to the working size), `up` the enlarged colour. The blends (`--blend`):
//
//   multiply            the network's colour as a layer of flat colour under the page's line art:
//                         flat = clamp(up / max(low, ε), 0, 1)            (the network's shading taken out)
//                         flat' = 1 − (1 − flat)·s(grey)                  (s: smoothstep from 0 at ink to 1 at grey ½)
//                         out = flat' × grey                              per channel
//                       The output is never lighter than the page (out ≤ grey in every channel), so ink stays
//                       ink; where the page is dark, s fades the colour out, so an ink pixel of luma g comes out
//                       within g·s(g) ≤ 12·g³ of g with at most that much colour (g = 0.1: 3/255).
//   luminance           the page's luma with the network's chroma: out = grey + k·(up − Y(up)), with k ≤ 1 the
//                       largest that keeps every channel in [0, 1] and the chroma (max − min channel) at most
//                       grey·s(grey). The luma is the page's exactly, so ink and lettering keep their contrast,
//                       but white paper stays white (no chroma fits at luma 1): for grey pages, not line art.
//   auto (default)      per page: luminance for a grey page (a greyscale render: at least AUTO_GREY_SHARE of
//                       its non-paper pixels in mid-grey areas), multiply for line art (ink on paper; screentone at the
//                       page's resolution is ink dots, so a toned manga page is line art). Chosen by `npm run
//                       eval` (models/README.md): on held-out grey pages luminance keeps the page's PSNR where
//                       multiply loses 4 dB, on line art multiply colours the paper that luminance must leave
//                       white. Both keep the ink guarantee above.
//   detail              the earlier chroma transfer: out = up + (grey − low), the network's low-frequency
//                       lightness plus the detail the resize removed, clamped. It reproduces the page only where
//                       the network reproduces its input; a network that paints over lines greys them.
//
// API
//   recombine(page, colour, blend?) → Plane   page: the original (RGB or grey, any size); colour: the network's
//                                             RGB at the working size, padding already cropped.
//   chooseBlend(grey) → 'multiply' | 'luminance'   what auto picks for a page's luma plane
//   BLEND_MODES, DEFAULT_BLEND, isBlendMode(text)
import { createPlane, LUMA, toGrey, type Plane } from '../data/plane.js';
import { resample, resizeArea } from '../data/resize.js';

export const BLEND_MODES = ['auto', 'multiply', 'luminance', 'detail'] as const;
export type BlendMode = (typeof BLEND_MODES)[number];
/** Chosen by `npm run eval` (models/README.md): see the model card's blend comparison. */
export const DEFAULT_BLEND: BlendMode = 'auto';

export const isBlendMode = (text: unknown): text is BlendMode => typeof text === 'string' && (BLEND_MODES as readonly string[]).includes(text);

/** Below this low-frequency page luma the colour layer is not divided further (a large black fill). */
const FLAT_EPSILON = 0.05;
/** Page luma from which the colour layer is at full strength (multiply). */
const FULL_COLOUR_LUMA = 0.5;

/** Paper and ink bounds of the auto blend's page measure (luma). */
const PAPER_LUMA = 0.9;
const INK_LUMA = 0.15;
/**
 * Share of a page's drawn pixels in mid-grey areas (midToneShare) from which auto takes it for a grey page. On 40
 * held-out OpenMoji images the grey renders measured 0.09–0.79 at 128 px (0.26–0.84 at 512 px), their XDoG line
 * art at most 0.001, examples/page.png 0: 0.08 sends every grey render of the eval to luminance and all line art
 * to multiply. A line-art page with large smooth grey areas (screentone scanned small) is taken for a grey page,
 * whose white paper luminance leaves white: `--blend multiply` colours it.
 */
const AUTO_GREY_SHARE = 0.08;

const clamp01 = (v: number) => (v < 0 ? 0 : v > 1 ? 1 : v);

/** 0 at ink (grey 0), 1 from FULL_COLOUR_LUMA on, smooth in between. */
function colourStrength(grey: number): number {
  const x = clamp01(grey / FULL_COLOUR_LUMA);
  return x * x * (3 - 2 * x);
}

/** Share of a page's drawn (non-paper) pixels that lie in mid-grey areas: pixels whose 3×3 neighbourhood is all mid-grey, neither paper nor ink (the anti-aliased edges of lines and the dots of screentone are not). */
export function midToneShare(grey: Plane): number {
  const { width, height, data } = grey;
  const mid = (v: number) => v >= INK_LUMA && v <= PAPER_LUMA;
  let [area, drawn] = [0, 0];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (data[y * width + x] > PAPER_LUMA) continue;
      drawn++;
      let inArea = true;
      for (let dy = -1; dy <= 1 && inArea; dy++) {
        const yy = Math.min(height - 1, Math.max(0, y + dy));
        for (let dx = -1; dx <= 1 && inArea; dx++) inArea = mid(data[yy * width + Math.min(width - 1, Math.max(0, x + dx))]);
      }
      if (inArea) area++;
    }
  }
  return drawn ? area / drawn : 0;
}

/** The blend auto picks for a page (its luma plane): luminance for a grey page, multiply for line art. */
export function chooseBlend(grey: Plane): 'multiply' | 'luminance' {
  return midToneShare(grey) >= AUTO_GREY_SHARE ? 'luminance' : 'multiply';
}

export function recombine(page: Plane, colour: Plane, mode: BlendMode = DEFAULT_BLEND): Plane {
  if (colour.channels !== 3) throw new Error(`recombine takes an RGB colour plane, got ${colour.channels} channels.`);
  if (!isBlendMode(mode)) throw new Error(`Unknown blend "${String(mode)}"; use one of ${BLEND_MODES.join(', ')}.`);
  const { width, height } = page;
  const grey = toGrey(page);
  const blend = mode === 'auto' ? chooseBlend(grey) : mode;
  const same = colour.width === width && colour.height === height;
  const low = same ? grey : resample(resizeArea(grey, colour.width, colour.height), width, height);
  const up = same ? colour : resample(colour, width, height);
  const out = new Float32Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    const g = grey.data[i];
    const [r, gr, b] = [up.data[3 * i], up.data[3 * i + 1], up.data[3 * i + 2]];
    if (blend === 'multiply') {
      const divisor = Math.max(low.data[i], FLAT_EPSILON);
      const s = colourStrength(g);
      for (let c = 0; c < 3; c++) {
        const flat = clamp01(up.data[3 * i + c] / divisor);
        out[3 * i + c] = clamp01((1 - (1 - flat) * s) * g);
      }
    } else if (blend === 'luminance') {
      const y = LUMA[0] * r + LUMA[1] * gr + LUMA[2] * b;
      const d = [r - y, gr - y, b - y];
      // At most g·s(g) of chroma: ink carries no more than a trace of colour.
      const range = Math.max(...d) - Math.min(...d);
      let k = range > 0 ? Math.min(1, (g * colourStrength(g)) / range) : 1;
      for (const dc of d) {
        if (dc > 0) k = Math.min(k, (1 - g) / dc);
        else if (dc < 0) k = Math.min(k, g / -dc);
      }
      for (let c = 0; c < 3; c++) out[3 * i + c] = clamp01(g + Math.max(k, 0) * d[c]);
    } else {
      const detail = g - low.data[i];
      for (let c = 0; c < 3; c++) out[3 * i + c] = clamp01(up.data[3 * i + c] + detail);
    }
  }
  return createPlane(width, height, 3, out);
}
