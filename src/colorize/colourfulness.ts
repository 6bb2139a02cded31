// Telling pages already in colour from black-and-white ones (browser-neutral), so a chapter's colour pages
// (covers, inserts) are left alone.
//
// The measure is Hasler & Süsstrunk's colourfulness (2003, "Measuring colourfulness in natural images"), on
// 8-bit units: with rg = R − G and yb = (R + G)/2 − B per pixel,
//   M = √(σ_rg² + σ_yb²) + 0.3·√(μ_rg² + μ_yb²).
// Their scale: 0 not colourful, 15 slightly, 33 moderately, 45 averagely, 59 quite, 82 highly. A grey page
// measures 0 (JPEG chroma noise adds 1–3); a scan with a faint paper tint stays under 10; colour pages measure
// 30 and more. A page counts as colour at COLOUR_THRESHOLD = 20 and above: halfway between. A strongly
// sepia-toned scan can reach it; `--force-color` colours such pages anyway.
//
// API
//   colourfulness(page) → M;  isColourPage(page, threshold = COLOUR_THRESHOLD) → boolean;  COLOUR_THRESHOLD
import type { Plane } from '../data/plane.js';

export const COLOUR_THRESHOLD = 20;

/** Hasler–Süsstrunk colourfulness M of an RGB plane in 8-bit units (a grey plane is 0). */
export function colourfulness(page: Plane): number {
  if (page.channels === 1) return 0;
  if (page.channels < 3) throw new Error(`colourfulness takes an RGB(A) plane, got ${page.channels} channels.`);
  const n = page.width * page.height;
  const c = page.channels;
  const d = page.data;
  let [sumRg, sumYb, sqRg, sqYb] = [0, 0, 0, 0];
  for (let i = 0; i < n; i++) {
    const [r, g, b] = [d[i * c] * 255, d[i * c + 1] * 255, d[i * c + 2] * 255];
    const rg = r - g;
    const yb = (r + g) / 2 - b;
    sumRg += rg;
    sumYb += yb;
    sqRg += rg * rg;
    sqYb += yb * yb;
  }
  const [meanRg, meanYb] = [sumRg / n, sumYb / n];
  const varRg = Math.max(0, sqRg / n - meanRg * meanRg);
  const varYb = Math.max(0, sqYb / n - meanYb * meanYb);
  return Math.sqrt(varRg + varYb) + 0.3 * Math.hypot(meanRg, meanYb);
}

export function isColourPage(page: Plane, threshold = COLOUR_THRESHOLD): boolean {
  return colourfulness(page) >= threshold;
}
