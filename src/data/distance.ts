// The distance field map of REFERENCE §2: ink = sketch pixels < 1; sdf = edt(to ink) − edt(to background), so
// +distance to the nearest ink pixel outside ink and −distance to the nearest paper pixel inside it; min-max
// normalised per image to [0, 1]. The exact Euclidean distance transform is Felzenszwalb & Huttenlocher's
// (2012): a 1-D lower envelope of parabolas down every column, then along every row — linear time.
import { createPlane, type Plane } from './plane.js';

/**
 * Squared Euclidean distance from every pixel to the nearest pixel where `site` is 1 (0 on sites), exact in
 * float64 (integers below 2^53). Without any site every value is Infinity.
 */
export function squaredDistanceTransform(site: Uint8Array, width: number, height: number): Float64Array {
  if (site.length !== width * height) throw new Error(`A ${width}×${height} mask needs ${width * height} values, got ${site.length}.`);
  const d = new Float64Array(width * height);
  for (let i = 0; i < d.length; i++) d[i] = site[i] ? 0 : Infinity;
  const n = Math.max(width, height);
  const f = new Float64Array(n);
  const out = new Float64Array(n);
  const v = new Int32Array(n);
  const z = new Float64Array(n + 1);
  for (let x = 0; x < width; x++) {
    for (let y = 0; y < height; y++) f[y] = d[y * width + x];
    transform1d(f, height, out, v, z);
    for (let y = 0; y < height; y++) d[y * width + x] = out[y];
  }
  for (let y = 0; y < height; y++) {
    const row = d.subarray(y * width, (y + 1) * width);
    f.set(row);
    transform1d(f, width, out, v, z);
    row.set(out.subarray(0, width));
  }
  return d;
}

/**
 * out[q] = min over p of (q − p)² + f[p] for q < n, ignoring p with f[p] = ∞ (so a line without finite values
 * stays ∞ and no ∞ − ∞ ever happens). v holds the parabolas of the lower envelope, z the boundaries between them.
 */
function transform1d(f: Float64Array, n: number, out: Float64Array, v: Int32Array, z: Float64Array): void {
  let k = -1;
  for (let q = 0; q < n; q++) {
    if (f[q] === Infinity) continue;
    let s = -Infinity;
    while (k >= 0) {
      const p = v[k];
      s = (f[q] + q * q - (f[p] + p * p)) / (2 * (q - p));
      if (s > z[k]) break;
      k--;
    }
    k++;
    v[k] = q;
    z[k] = k === 0 ? -Infinity : s;
    z[k + 1] = Infinity;
  }
  if (k < 0) {
    out.fill(Infinity, 0, n);
    return;
  }
  let j = 0;
  for (let q = 0; q < n; q++) {
    while (z[j + 1] < q) j++;
    const p = v[j];
    out[q] = (q - p) * (q - p) + f[p];
  }
}

/**
 * Signed distance in pixels: +distance to the nearest ink pixel (sketch < 1) outside ink, −distance to the
 * nearest paper pixel (sketch = 1) inside ink. A page without ink gives +Infinity everywhere, an all-ink page
 * −Infinity; distanceField maps both to defined values.
 */
export function signedDistance(sketch: Plane): Float64Array {
  if (sketch.channels !== 1) throw new Error(`The distance field takes a one-channel sketch, got ${sketch.channels} channels.`);
  const { width, height, data } = sketch;
  const ink = new Uint8Array(width * height);
  const paper = new Uint8Array(width * height);
  for (let i = 0; i < ink.length; i++) {
    ink[i] = data[i] < 1 ? 1 : 0;
    paper[i] = 1 - ink[i];
  }
  const toInk = squaredDistanceTransform(ink, width, height);
  const toPaper = squaredDistanceTransform(paper, width, height);
  const sdf = new Float64Array(width * height);
  for (let i = 0; i < sdf.length; i++) sdf[i] = ink[i] ? -Math.sqrt(toPaper[i]) : Math.sqrt(toInk[i]);
  return sdf;
}

/**
 * The distance field map: the signed distance min-max normalised to [0, 1] over the whole image (REFERENCE
 * §2). Where it is constant — no ink (all paper: 1), all ink (0), or a single pixel — the result is that
 * constant instead of 0/0.
 */
export function distanceField(sketch: Plane): Plane {
  const sdf = signedDistance(sketch);
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of sdf) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const out = new Float32Array(sdf.length);
  if (!(hi > lo) || !Number.isFinite(hi - lo)) {
    // Uniform: without ink the whole page is "far from ink" (1); all ink is "inside ink" (0).
    out.fill(lo > 0 ? 1 : 0);
  } else {
    for (let i = 0; i < out.length; i++) out[i] = (sdf[i] - lo) / (hi - lo);
  }
  return createPlane(sketch.width, sketch.height, 1, out);
}
