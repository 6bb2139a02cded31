// The paper's step 5, "auto-hint" (REFERENCE §7 step 6; browser-neutral): after a first pass without hints,
// sample hint pixels from that pass's own colours and run again. The colours the network chose become
// constraints, which evens out colour across regions (the paper's FID 25.43 with it).
//
// API
//   autoHintMask(colour, content, rng, { density, ignoreGrey }) → Uint8Array mask over the canvas
//   AUTO_HINT_DENSITY, densityToSigma(density), isGreyish(r, g, b)
import { sparseMask } from '../data/hints.js';
import type { Plane } from '../data/plane.js';
import type { Rng } from '../data/random.js';
import type { Size } from '../data/resize.js';

/** The paper's threshold σ 0.003 as the expected fraction of hint pixels, σ·√(2/π) ≈ 0.24 %. */
export const AUTO_HINT_DENSITY = 0.003 * Math.sqrt(2 / Math.PI);

/**
 * The σ of the truncated-normal threshold that gives `density` hint pixels on average: a pixel is a hint where
 * U ≥ t, t ~ Normal(1, σ) on [0, 1], so the expected fraction is E[1 − t] = σ·√(2/π) (for σ ≪ 1).
 */
export const densityToSigma = (density: number): number => density / Math.sqrt(2 / Math.PI);

/** REFERENCE §7: a pixel is greyish when |R−G| + |R−B| + |G−B| ≤ 60/255 with colours in [−1, 1]. */
export const GREY_LIMIT = 60 / 255;

/** `r, g, b` in [0, 1]; the sum of differences doubles in [−1, 1] units. */
export function isGreyish(r: number, g: number, b: number): boolean {
  return 2 * (Math.abs(r - g) + Math.abs(r - b) + Math.abs(g - b)) <= GREY_LIMIT;
}

export interface AutoHintOptions {
  /** Expected fraction of pixels that become hints (default AUTO_HINT_DENSITY). */
  density?: number;
  /** Skip greyish pixels (REFERENCE §7's optional filter): hints then only pin down real colours. */
  ignoreGrey?: boolean;
}

/**
 * Hint pixels sampled from the first pass's colour (RGB in [0, 1] on the padded canvas), only inside the page's
 * `content` (top-left; the padding is not the page) and, with `ignoreGrey`, only where the colour is not greyish.
 */
export function autoHintMask(colour: Plane, content: Size, rng: Rng, { density = AUTO_HINT_DENSITY, ignoreGrey = false }: AutoHintOptions = {}): Uint8Array {
  if (colour.channels !== 3) throw new Error(`autoHintMask takes the RGB output of the first pass, got ${colour.channels} channels.`);
  if (!(density > 0 && density < 0.5)) throw new Error(`The auto-hint density must be a fraction in (0, 0.5), got ${density}.`);
  const mask = sparseMask(colour, rng, densityToSigma(density));
  const d = colour.data;
  for (let y = 0; y < colour.height; y++) {
    for (let x = 0; x < colour.width; x++) {
      const i = y * colour.width + x;
      if (!mask[i]) continue;
      if (x >= content.width || y >= content.height || (ignoreGrey && isGreyish(d[3 * i], d[3 * i + 1], d[3 * i + 2]))) mask[i] = 0;
    }
  }
  return mask;
}
