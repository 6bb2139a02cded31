// Manga paper laid over a training crop: panel gutters and speech balloons with lettering, black ink on white
// paper in both the colour target and the line art. Colour images (emoji, stamps) colour nearly every region the
// lines enclose, so a network trained on them alone learns to paint every enclosed area; a manga page is mostly
// enclosed white paper (panels, balloons) that must stay white without a hint. These overlays teach that: the
// target of the paper they add is white, and the dense hint sampler never draws a dot on it (it is not coloured).
import type { Plane } from './plane.js';
import type { Rng } from './random.js';

/** Crop side the pixel sizes below are given for; other crops scale them. */
const BASE_SIDE = 64;

/** A colour crop (RGB in [0, 1]) and its line art (one channel, 1 = paper), both square of the same side. */
export interface PaperSample {
  colour: Plane;
  sketch: Plane;
}

/**
 * `sample` with one to three paper elements drawn over it (seeded by `rng`): gutters between panels (a white band
 * between two border lines) and speech balloons (a white ellipse in a black outline, with rows of small glyphs).
 * Returns new planes; the inputs are not changed. The distance field must be computed again from the new sketch.
 */
export function overlayPaper(sample: PaperSample, rng: Rng): PaperSample {
  const { colour, sketch } = sample;
  const side = colour.width;
  if (colour.height !== side || sketch.width !== side || sketch.height !== side || colour.channels !== 3 || sketch.channels !== 1) {
    throw new Error(`overlayPaper: expected a square RGB crop and its one-channel line art of the same side, got ${colour.width}×${colour.height}×${colour.channels} and ${sketch.width}×${sketch.height}×${sketch.channels}.`);
  }
  const out: PaperSample = {
    colour: { ...colour, data: colour.data.slice() },
    sketch: { ...sketch, data: sketch.data.slice() },
  };
  const scale = side / BASE_SIDE;
  const px = (n: number) => Math.max(1, Math.round(n * scale));
  const paint = (x: number, y: number, value: 0 | 1) => {
    if (x < 0 || y < 0 || x >= side || y >= side) return;
    const p = y * side + x;
    out.sketch.data[p] = value;
    out.colour.data.fill(value, 3 * p, 3 * p + 3);
  };
  const elements = 1 + rng.int(3);
  for (let e = 0; e < elements; e++) {
    if (rng.next() < 0.4) gutter(side, px, rng, paint);
    else balloon(side, px, rng, paint);
  }
  return out;
}

type Paint = (x: number, y: number, value: 0 | 1) => void;

/**
 * A gutter across the crop, horizontal or vertical: a white band 3–10 px wide between two 1–2 px border lines,
 * and beyond each line a white margin of 0–12 px, the paper a panel keeps inside its border before the drawing
 * starts (without it the only paper beside a border line would be the gutter, and a model learns to paint the
 * panel side of every border).
 */
function gutter(side: number, px: (n: number) => number, rng: Rng, paint: Paint): void {
  const width = px(3 + rng.int(8));
  const line = px(1 + rng.int(2));
  const margins = [rng.int(13), rng.int(13)].map((m) => (m === 0 ? 0 : px(m)));
  const start = rng.int(side);
  const horizontal = rng.next() < 0.5;
  for (let t = -line - margins[0]; t < width + line + margins[1]; t++) {
    const value = (t >= -line && t < 0) || (t >= width && t < width + line) ? 0 : 1;
    for (let s = 0; s < side; s++) {
      if (horizontal) paint(s, start + t, value);
      else paint(start + t, s, value);
    }
  }
}

/**
 * A white ellipse in a 1–2 px black outline, its centre anywhere in the crop, holding rows of lettering; half of
 * them on a white margin of 1–8 px, as a balloon set on the panel's paper.
 */
function balloon(side: number, px: (n: number) => number, rng: Rng, paint: Paint): void {
  const cx = rng.next() * side;
  const cy = rng.next() * side;
  const rx = side * (0.12 + 0.3 * rng.next());
  const ry = side * (0.1 + 0.25 * rng.next());
  const line = px(1 + rng.int(2));
  const margin = rng.next() < 0.5 ? px(1 + rng.int(8)) : 0;
  const reach = line + margin;
  const x0 = Math.floor(cx - rx - reach);
  const y0 = Math.floor(cy - ry - reach);
  const inside = (x: number, y: number, grow: number) => ((x + 0.5 - cx) / (rx + grow)) ** 2 + ((y + 0.5 - cy) / (ry + grow)) ** 2 <= 1;
  for (let y = y0; y <= Math.ceil(cy + ry + reach); y++) {
    for (let x = x0; x <= Math.ceil(cx + rx + reach); x++) {
      // The outline is the ring between the ellipse and the ellipse grown by `line` pixels, the margin the next ring.
      if (inside(x, y, 0)) paint(x, y, 1);
      else if (inside(x, y, line)) paint(x, y, 0);
      else if (margin > 0 && inside(x, y, reach)) paint(x, y, 1);
    }
  }
  // Lettering: rows of glyphs of random strokes inside the box inscribed in the ellipse (half-axes / √2).
  const glyphW = px(3);
  const glyphH = px(5);
  const halfW = rx / Math.SQRT2 - 1;
  const halfH = ry / Math.SQRT2 - 1;
  const rows = Math.floor((2 * halfH) / (glyphH + px(2)));
  if (rows < 1 || 2 * halfW < glyphW) return;
  const lettered = 1 + rng.int(rows);
  for (let r = 0; r < lettered; r++) {
    const top = Math.round(cy - halfH + r * (glyphH + px(2)));
    for (let left = Math.round(cx - halfW); left + glyphW <= cx + halfW; left += glyphW + px(1)) {
      if (rng.next() < 0.15) continue; // a space between words
      glyph(left, top, glyphW, glyphH, rng, paint);
    }
  }
}

/** A glyph of one to three strokes (vertical, horizontal or a dot) in a w × h cell. */
function glyph(left: number, top: number, w: number, h: number, rng: Rng, paint: Paint): void {
  const strokes = 1 + rng.int(3);
  for (let s = 0; s < strokes; s++) {
    const kind = rng.int(3);
    if (kind === 0) {
      const x = left + rng.int(w);
      for (let y = top; y < top + h; y++) paint(x, y, 0);
    } else if (kind === 1) {
      const y = top + rng.int(h);
      for (let x = left; x < left + w; x++) paint(x, y, 0);
    } else {
      paint(left + rng.int(w), top + rng.int(h), 0);
    }
  }
}
