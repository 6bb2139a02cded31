// The fill-region tool's geometry (web/fill-region.ts) without a browser: the region a click finds is bounded by
// the line art (anti-aliased grey edges included) and not by the page's edge, its dots lie inside it and clear of
// its lines, a huge open area gets at most the cap, a thin region one dot, and a click on ink none.
import { describe, expect, test } from 'vitest';
import { enclosedRegion, FILL_SPACING, fillRegion, MAX_FILL_DOTS, type RgbaPixels } from '../web/fill-region.js';

/** A white page with black (or `grey`) rectangle outlines `thickness` pixels wide. */
function page(width: number, height: number, boxes: { x0: number; y0: number; x1: number; y1: number; grey?: number }[], thickness = 2): RgbaPixels {
  const data = new Uint8ClampedArray(width * height * 4).fill(255);
  const set = (x: number, y: number, v: number) => data.set([v, v, v], 4 * (y * width + x));
  for (const b of boxes) {
    for (let y = b.y0; y <= b.y1; y++) {
      for (let x = b.x0; x <= b.x1; x++) {
        const edge = x - b.x0 < thickness || b.x1 - x < thickness || y - b.y0 < thickness || b.y1 - y < thickness;
        if (edge) set(x, y, b.grey ?? 0);
      }
    }
  }
  return { width, height, data };
}

const inside = (d: { x: number; y: number }, b: { x0: number; y0: number; x1: number; y1: number }) => d.x > b.x0 && d.x < b.x1 && d.y > b.y0 && d.y < b.y1;

describe('the enclosed region', () => {
  test('is the inside of the outline clicked, bounded by its lines', () => {
    const box = { x0: 10, y0: 20, x1: 59, y1: 69 };
    const region = enclosedRegion(page(100, 100, [box]), 30, 40)!;
    // 50×50 outline two pixels thick: 46×46 inside.
    expect(region.area).toBe(46 * 46);
    expect(region.box).toEqual({ x0: 12, y0: 22, x1: 57, y1: 67 });
    // Outside the outline, the region runs to the page's edges around it.
    expect(enclosedRegion(page(100, 100, [box]), 80, 80)!.area).toBe(100 * 100 - 50 * 50);
  });

  test("a grey anti-aliased line bounds it as a black one does; a pale one does not", () => {
    expect(enclosedRegion(page(60, 60, [{ x0: 5, y0: 5, x1: 40, y1: 40, grey: 110 }], 1), 20, 20)!.area).toBe(34 * 34);
    expect(enclosedRegion(page(60, 60, [{ x0: 5, y0: 5, x1: 40, y1: 40, grey: 200 }], 1), 20, 20)!.area).toBe(60 * 60);
  });

  test('a click on ink or off the page finds none', () => {
    const image = page(50, 50, [{ x0: 10, y0: 10, x1: 40, y1: 40 }]);
    expect(enclosedRegion(image, 10.5, 20)).toBeNull();
    expect(enclosedRegion(image, -1, 20)).toBeNull();
    expect(enclosedRegion(image, 20, 50)).toBeNull();
    expect(fillRegion(image, 10.5, 20, 5)).toEqual({ dots: [], area: 0, spacing: 0 });
  });
});

describe('the dots of a filled region', () => {
  test('lie inside it, a dot radius clear of its lines, on a grid through the click FILL_SPACING dot widths apart', () => {
    const box = { x0: 10, y0: 10, x1: 109, y1: 89 };
    const image = page(160, 120, [box, { x0: 120, y0: 10, x1: 150, y1: 40 }]);
    const dotWidth = 6;
    const fill = fillRegion(image, 33.7, 41.2, dotWidth);
    expect(fill.spacing).toBe(FILL_SPACING * dotWidth);
    expect(fill.dots.length).toBeGreaterThan(4);
    expect(fill.dots).toContainEqual({ x: 33, y: 41 });
    for (const d of fill.dots) {
      expect(inside(d, box)).toBe(true);
      // The box's lines are 2 pixels thick: the region starts at x0 + 2.
      expect(Math.min(d.x - (box.x0 + 2), box.x1 - 2 - d.x, d.y - (box.y0 + 2), box.y1 - 2 - d.y)).toBeGreaterThanOrEqual(dotWidth / 2);
      expect(Math.abs(d.x - 33) % fill.spacing).toBe(0);
      expect(Math.abs(d.y - 41) % fill.spacing).toBe(0);
    }
    // Every grid point a dot fits at is taken: of the columns 9, 33, 57, 81, 105 and rows 17, 41, 65, 89, the
    // ones a dot radius inside the lines.
    expect(new Set(fill.dots.map((d) => d.x))).toEqual(new Set([33, 57, 81]));
    expect(new Set(fill.dots.map((d) => d.y))).toEqual(new Set([17, 41, 65]));
  });

  test("the page's edge is no boundary: dots reach it", () => {
    const fill = fillRegion(page(100, 100, []), 50, 50, 6);
    expect(new Set(fill.dots.map((d) => d.x))).toEqual(new Set([2, 26, 50, 74, 98]));
    expect(fill.dots).toHaveLength(25);
  });

  test('a huge open area gets at most the cap, spread over it', () => {
    const image = page(2000, 3000, []);
    const fill = fillRegion(image, 1000, 1500, 3);
    expect(fill.area).toBe(2000 * 3000);
    expect(fill.dots.length).toBeLessThanOrEqual(MAX_FILL_DOTS);
    expect(fill.dots.length).toBeGreaterThan(MAX_FILL_DOTS / 2);
    const xs = fill.dots.map((d) => d.x);
    const ys = fill.dots.map((d) => d.y);
    expect(Math.max(...xs) - Math.min(...xs)).toBeGreaterThan(1000);
    expect(Math.max(...ys) - Math.min(...ys)).toBeGreaterThan(1500);
    expect(fillRegion(image, 5, 5, 3, 10).dots.length).toBeLessThanOrEqual(10);
  });

  test('a region thinner than a dot gets one dot, at its most interior pixel', () => {
    // A corridor 3 pixels wide between two outlines' walls, dots 8 wide.
    const image = page(80, 40, [{ x0: 0, y0: 0, x1: 79, y1: 6 }, { x0: 0, y0: 10, x1: 79, y1: 39 }], 2);
    const fill = fillRegion(image, 40, 8, 8);
    expect(fill.area).toBe(80 * 3);
    expect(fill.spacing).toBe(0);
    expect(fill.dots).toEqual([{ x: 40, y: 8 }]);
  });
});
