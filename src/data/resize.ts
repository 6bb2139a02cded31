// Resizing for the network (REFERENCE §2 "Resize and pad", §7): area resampling to the model's working size,
// padding bottom/right to a multiple of 32 with each row's/column's maximum, and the inverse (crop the padding,
// resize back to the page's size).
import { createPlane, type Plane } from './plane.js';

export interface Size {
  width: number;
  height: number;
}

/**
 * Area resampling: each output pixel is the mean of the input over its footprint (pixel edges at multiples of
 * in/out), partially covered input pixels weighted by the covered fraction. Downscaling by an integer factor
 * averages whole blocks exactly; upscaling repeats pixels and blends only across input pixel edges (as
 * OpenCV's INTER_AREA does when zooming).
 */
export function resizeArea(plane: Plane, width: number, height: number): Plane {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new Error(`resizeArea needs a positive integer size, got ${width}×${height}.`);
  }
  if (width === plane.width && height === plane.height) return plane;
  const c = plane.channels;
  const cols = areaWeights(plane.width, width);
  const rows = areaWeights(plane.height, height);
  // Along x first (the row pass keeps memory access sequential), then along y.
  const mid = new Float64Array(plane.height * width * c);
  for (let y = 0; y < plane.height; y++) {
    const src = y * plane.width * c;
    const dst = y * width * c;
    for (let x = 0; x < width; x++) {
      const { first, weights } = cols[x];
      for (let k = 0; k < weights.length; k++) {
        const s = src + (first + k) * c;
        for (let ch = 0; ch < c; ch++) mid[dst + x * c + ch] += weights[k] * plane.data[s + ch];
      }
    }
  }
  const out = new Float32Array(width * height * c);
  const rowLength = width * c;
  const acc = new Float64Array(rowLength);
  for (let y = 0; y < height; y++) {
    const { first, weights } = rows[y];
    acc.fill(0);
    for (let k = 0; k < weights.length; k++) {
      const src = (first + k) * rowLength;
      const w = weights[k];
      for (let i = 0; i < rowLength; i++) acc[i] += w * mid[src + i];
    }
    out.set(acc, y * rowLength);
  }
  return createPlane(width, height, c, out);
}

/**
 * For each output index: the first input index it covers and the overlap weights. Lengths are counted in
 * units of 1/(in·out) of the input, so every overlap is an integer and the weights are exact ratios.
 */
function areaWeights(inSize: number, outSize: number): { first: number; weights: number[] }[] {
  return Array.from({ length: outSize }, (_, o) => {
    const [start, end] = [o * inSize, (o + 1) * inSize]; // footprint, in units of 1/out input pixels
    const first = Math.floor(start / outSize);
    const weights: number[] = [];
    for (let i = first; i * outSize < end; i++) weights.push((Math.min((i + 1) * outSize, end) - Math.max(i * outSize, start)) / inSize);
    return { first, weights };
  });
}

/**
 * The model's working size of a page (REFERENCE §2): portrait or square pages get width `shortSide`, landscape
 * pages height `shortSide`; the other side keeps the aspect ratio, rounded up.
 */
export function workingSize(page: Size, shortSide = 512): Size {
  if (page.width <= page.height) return { width: shortSide, height: Math.ceil((page.height * shortSide) / page.width) };
  return { width: Math.ceil((page.width * shortSide) / page.height), height: shortSide };
}

/**
 * Pads bottom and right up to multiples of `multiple`: new columns of a row repeat that row's maximum, new rows
 * of a column that column's maximum (per channel; numpy's pad mode "maximum"). The corner gets the maximum of
 * the whole plane either way.
 */
export function padToMultiple(plane: Plane, multiple = 32): Plane {
  const { width: w, height: h, channels: c } = plane;
  const pw = Math.ceil(w / multiple) * multiple;
  const ph = Math.ceil(h / multiple) * multiple;
  if (pw === w && ph === h) return plane;
  const out = new Float32Array(pw * ph * c);
  const colMax = new Float32Array(pw * c).fill(-Infinity);
  for (let y = 0; y < h; y++) {
    const rowMax = new Float32Array(c).fill(-Infinity);
    for (let x = 0; x < w; x++) {
      for (let ch = 0; ch < c; ch++) {
        const v = plane.data[(y * w + x) * c + ch];
        out[(y * pw + x) * c + ch] = v;
        rowMax[ch] = Math.max(rowMax[ch], v);
      }
    }
    for (let x = w; x < pw; x++) out.set(rowMax, (y * pw + x) * c);
    for (let x = 0; x < pw; x++) {
      for (let ch = 0; ch < c; ch++) colMax[x * c + ch] = Math.max(colMax[x * c + ch], out[(y * pw + x) * c + ch]);
    }
  }
  for (let y = h; y < ph; y++) out.set(colMax, y * pw * c);
  return createPlane(pw, ph, c, out);
}

/** Where a page sits in the padded working canvas, to undo resizePad. */
export interface Placement {
  /** The page's original size. */
  page: Size;
  /** The resized page inside the canvas (top-left aligned). */
  content: Size;
  /** The padded canvas the network sees. */
  canvas: Size;
}

/** Area-resizes a page to its working size and pads it to multiples of `multiple` (REFERENCE §7 step 2). */
export function resizePad(page: Plane, shortSide = 512, multiple = 32): { plane: Plane; placement: Placement } {
  const content = workingSize(page, shortSide);
  const plane = padToMultiple(resizeArea(page, content.width, content.height), multiple);
  return { plane, placement: { page: { width: page.width, height: page.height }, content, canvas: { width: plane.width, height: plane.height } } };
}

/** The top-left `width`×`height` of a plane. */
export function crop(plane: Plane, width: number, height: number): Plane {
  if (width > plane.width || height > plane.height) throw new Error(`Cannot crop ${width}×${height} from a ${plane.width}×${plane.height} plane.`);
  if (width === plane.width && height === plane.height) return plane;
  const c = plane.channels;
  const out = new Float32Array(width * height * c);
  for (let y = 0; y < height; y++) out.set(plane.data.subarray(y * plane.width * c, (y * plane.width + width) * c), y * width * c);
  return createPlane(width, height, c, out);
}

/** The inverse of resizePad for a network output on the canvas: crop the padding, resize to the page's size. */
export function unpad(output: Plane, placement: Placement): Plane {
  if (output.width !== placement.canvas.width || output.height !== placement.canvas.height) {
    throw new Error(`Expected a ${placement.canvas.width}×${placement.canvas.height} output, got ${output.width}×${output.height}.`);
  }
  return resizeArea(crop(output, placement.content.width, placement.content.height), placement.page.width, placement.page.height);
}

/**
 * Bilinear resampling with pixel centres aligned ((x + ½)·in/out − ½, edges clamped), as OpenCV's INTER_LINEAR
 * and sharp's bilinear kernel do. Used to enlarge smooth content (colour), where area resampling's repeated
 * pixels would show as blocks.
 */
export function resizeBilinear(plane: Plane, width: number, height: number): Plane {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new Error(`resizeBilinear needs a positive integer size, got ${width}×${height}.`);
  }
  if (width === plane.width && height === plane.height) return plane;
  const c = plane.channels;
  const taps = (inSize: number, outSize: number) =>
    Array.from({ length: outSize }, (_, o) => {
      const s = Math.min(Math.max(((o + 0.5) * inSize) / outSize - 0.5, 0), inSize - 1);
      const i0 = Math.floor(s);
      return { i0, i1: Math.min(i0 + 1, inSize - 1), t: s - i0 };
    });
  const cols = taps(plane.width, width);
  const rows = taps(plane.height, height);
  const out = new Float32Array(width * height * c);
  const src = plane.data;
  for (let y = 0; y < height; y++) {
    const { i0: y0, i1: y1, t: ty } = rows[y];
    for (let x = 0; x < width; x++) {
      const { i0: x0, i1: x1, t: tx } = cols[x];
      const [a, b, d, e] = [(y0 * plane.width + x0) * c, (y0 * plane.width + x1) * c, (y1 * plane.width + x0) * c, (y1 * plane.width + x1) * c];
      for (let ch = 0; ch < c; ch++) {
        const top = src[a + ch] + tx * (src[b + ch] - src[a + ch]);
        const bottom = src[d + ch] + tx * (src[e + ch] - src[d + ch]);
        out[(y * width + x) * c + ch] = top + ty * (bottom - top);
      }
    }
  }
  return createPlane(width, height, c, out);
}

/** Area resampling to shrink (each output pixel the mean of its footprint), bilinear to enlarge. */
export function resample(plane: Plane, width: number, height: number): Plane {
  return width <= plane.width && height <= plane.height ? resizeArea(plane, width, height) : resizeBilinear(plane, width, height);
}
