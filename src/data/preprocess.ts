// The v1 generator's input for one page (REFERENCE §7 steps 2–5): resize_pad to the working size, optional
// denoising, XDoG line art at mult 7, the distance field, and the hint (empty, or user hints placed on the
// canvas), packed as the 6 input channels in order — line art, distance field, hint RGB × mask, mask — one CHW image of an NCHW batch.
import { distanceField } from './distance.js';
import { hintSet, placeHints, type HintSet } from './hints.js';
import { planeToChw, type Plane } from './plane.js';
import { resizePad, type Placement } from './resize.js';
import { xdog, type XdogOptions } from './xdog.js';

/** The XDoG mult of the line art at inference (REFERENCE §7). */
export const INFERENCE_XDOG_MULT = 7;

export interface PreprocessOptions {
  /** The working size's short side (512 for v1). */
  shortSide?: number;
  /** XDoG options; mult defaults to 7, as at inference. */
  xdog?: XdogOptions;
  /** User hints for this page (page pixel coordinates); none gives the empty hint. */
  hints?: HintSet;
  /** Applied to the resized, padded RGB page before XDoG: the optional FFDNet denoising of REFERENCE §7 step 3. */
  denoise?: (canvas: Plane) => Promise<Plane>;
}

export interface PreparedPage {
  /** [6, H, W] float32: line art, distance field, hint R, G, B (× mask), mask. */
  input: Float32Array;
  placement: Placement;
  sketch: Plane;
  field: Plane;
  hint: Plane;
}

export async function preprocessPage(page: Plane, options: PreprocessOptions = {}): Promise<PreparedPage> {
  const resized = resizePad(page, options.shortSide ?? 512);
  const { placement } = resized;
  const plane = options.denoise ? await options.denoise(resized.plane) : resized.plane;
  const sketch = await xdog(plane, { mult: INFERENCE_XDOG_MULT, ...options.xdog });
  const field = distanceField(sketch);
  const hint = placeHints(options.hints ?? hintSet(placement.page), placement.page, placement.content, placement.canvas);
  const n = plane.width * plane.height;
  const input = new Float32Array(6 * n);
  input.set(sketch.data, 0);
  input.set(field.data, n);
  input.set(planeToChw(hint), 2 * n);
  return { input, placement, sketch, field, hint };
}
