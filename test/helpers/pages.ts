// Synthetic manga-like pages for the data-pipeline tests: a gradient background, flat-filled shapes, black
// lines of several widths, a soft radial blob and rows of text-like strokes, all anti-aliased.
import { createPlane, type Plane } from '../../src/data/plane.js';
import { seededRng } from '../../src/data/random.js';

type Shape = (x: number, y: number) => number; // signed distance, negative inside

export function syntheticPage(width: number, height: number, seed = 1): Plane {
  const rng = seededRng(seed);
  const colour = () => [rng.next(), rng.next(), rng.next()];
  const layers: { sdf: Shape; rgb: number[] }[] = [];
  const rand = (a: number, b: number) => a + (b - a) * rng.next();
  for (let i = 0; i < 5; i++) {
    const [x0, y0] = [rand(0, width), rand(0, height)];
    const [hw, hh] = [rand(4, width / 4), rand(4, height / 4)];
    layers.push({ sdf: (x, y) => Math.max(Math.abs(x - x0) - hw, Math.abs(y - y0) - hh), rgb: colour() });
    const [cx, cy, r] = [rand(0, width), rand(0, height), rand(3, Math.min(width, height) / 5)];
    layers.push({ sdf: (x, y) => Math.hypot(x - cx, y - cy) - r, rgb: colour() });
  }
  const segment = (ax: number, ay: number, bx: number, by: number, half: number): Shape => (x, y) => {
    const [dx, dy] = [bx - ax, by - ay];
    const t = Math.max(0, Math.min(1, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy || 1)));
    return Math.hypot(x - ax - t * dx, y - ay - t * dy) - half;
  };
  for (let i = 0; i < 12; i++) {
    layers.push({ sdf: segment(rand(0, width), rand(0, height), rand(0, width), rand(0, height), rand(0.4, 2)), rgb: [0.05, 0.05, 0.05] });
  }
  // Text: rows of 8×10 cells, each with three short strokes.
  const tx = rand(2, width / 2);
  const ty = rand(2, height / 2);
  for (let row = 0; row < 3; row++) {
    for (let col = 0; col < 6; col++) {
      const [ox, oy] = [tx + col * 9, ty + row * 12];
      for (let s = 0; s < 3; s++) {
        layers.push({ sdf: segment(ox + rand(0, 7), oy + rand(0, 9), ox + rand(0, 7), oy + rand(0, 9), 0.5), rgb: [0, 0, 0] });
      }
    }
  }
  const [bx, by, br] = [rand(0, width), rand(0, height), rand(5, width / 3)];
  const top = colour().map((v) => 0.7 + 0.3 * v);
  const bottom = colour().map((v) => 0.5 + 0.5 * v);
  const data = new Float32Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [px, py] = [x + 0.5, y + 0.5];
      const g = y / Math.max(1, height - 1);
      let rgb = top.map((v, c) => v * (1 - g) + bottom[c] * g);
      const blob = Math.exp(-((px - bx) ** 2 + (py - by) ** 2) / (2 * br * br));
      rgb = rgb.map((v) => v * (1 - 0.4 * blob));
      for (const { sdf, rgb: c } of layers) {
        const cover = Math.max(0, Math.min(1, 0.5 - sdf(px, py)));
        if (cover > 0) rgb = rgb.map((v, k) => v * (1 - cover) + c[k] * cover);
      }
      data.set(rgb, 3 * (y * width + x));
    }
  }
  return createPlane(width, height, 3, data);
}
