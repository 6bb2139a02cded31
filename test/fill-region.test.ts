// The fill-region tool's geometry (web/fill-region.ts) without a browser: the region a click finds is bounded by
// the line art (anti-aliased grey edges included) and not by the page's edge, its dots lie inside it and clear of
// its lines, a huge open area gets at most the cap, a thin region one dot, and a click on ink none.
import { describe, expect, test } from 'vitest';
import { DEFAULT_CLOSE_GAPS, enclosedRegion, FILL_SPACING, fillRegion, MAX_FILL_DOTS, MIN_FILL_SPACING, type RgbaPixels } from '../web/fill-region.js';

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

  test('closing gaps: a gap up to closeGaps wide stops the region, which still reaches its lines', () => {
    const box = { x0: 10, y0: 20, x1: 59, y1: 69 };
    const closed = page(100, 100, [box]);
    // The same outline with a 3-pixel gap in its right side.
    const gapped = page(100, 100, [box]);
    for (let y = 40; y < 43; y++) for (let x = 58; x <= 59; x++) gapped.data.set([255, 255, 255], 4 * (y * 100 + x));
    expect(enclosedRegion(gapped, 30, 40)!.area).toBe(100 * 100 - (50 * 50 - 46 * 46) + 6); // leaks without closing
    const inside = enclosedRegion(gapped, 30, 40, 4)!;
    // The inside, plus at most the gap's own pixels: nothing beyond it.
    expect(inside.area).toBeGreaterThanOrEqual(46 * 46);
    expect(inside.area).toBeLessThanOrEqual(46 * 46 + 6);
    expect(inside.box).toEqual({ x0: 12, y0: 22, x1: inside.box.x1, y1: 67 });
    expect(inside.box.x1).toBeLessThanOrEqual(59);
    const outside = enclosedRegion(gapped, 80, 80, 4)!;
    expect(outside.area).toBeLessThanOrEqual(100 * 100 - 50 * 50 + 6);
    for (let i = 0; i < outside.mask.length; i++) expect(outside.mask[i] && inside.mask[i]).toBe(0);
    // Grown back to its lines: on a closed outline, gap closing changes nothing.
    expect(enclosedRegion(closed, 30, 40, 4)!.mask).toEqual(enclosedRegion(closed, 30, 40)!.mask);
    // A gap wider than closeGaps still lets it through.
    expect(enclosedRegion(gapped, 30, 40, 2)!.area).toBeGreaterThan(5000);
    // The fill tool's dots stay inside.
    const dots = fillRegion(gapped, 30, 40, 5, { closeGaps: DEFAULT_CLOSE_GAPS }).dots;
    expect(dots.length).toBeGreaterThan(0);
    for (const d of dots) expect(inside.mask[d.y * 100 + d.x]).toBe(1);
  });

  test('closing gaps: a region narrower than the gap is filled as without closing', () => {
    // A corridor 3 pixels high between two lines.
    const image = page(60, 11, [{ x0: 0, y0: 2, x1: 59, y1: 8 }]);
    const plain = enclosedRegion(image, 30, 5)!;
    expect(plain.area).toBe(56 * 3);
    expect(enclosedRegion(image, 30, 5, 8)!.mask).toEqual(plain.mask);
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
  /** Each dot's whole disc lies inside the box's lines (`thickness` wide), and the dots sit on one grid. */
  function expectGridInside(fill: { dots: { x: number; y: number }[]; spacing: number }, box: { x0: number; y0: number; x1: number; y1: number }, dotWidth: number, thickness = 2) {
    for (const d of fill.dots) {
      expect(Math.min(d.x - (box.x0 + thickness), box.x1 - thickness - d.x, d.y - (box.y0 + thickness), box.y1 - thickness - d.y), JSON.stringify(d)).toBeGreaterThanOrEqual(dotWidth / 2);
    }
    const steps = (values: number[]) => [...new Set(values)].sort((a, b) => a - b).flatMap((v, i, all) => (i ? [v - all[i - 1]] : []));
    for (const step of [...steps(fill.dots.map((d) => d.x)), ...steps(fill.dots.map((d) => d.y))]) {
      expect(Math.abs(step / fill.spacing - Math.round(step / fill.spacing)) * fill.spacing).toBeLessThanOrEqual(1);
    }
  }

  test('lie inside it, a dot radius clear of its lines, on a grid centred on it FILL_SPACING dot widths apart', () => {
    const box = { x0: 10, y0: 10, x1: 109, y1: 89 };
    const image = page(160, 120, [box, { x0: 120, y0: 10, x1: 150, y1: 40 }]);
    const dotWidth = 6;
    const fill = fillRegion(image, 33.7, 41.2, dotWidth);
    expect(fill.area).toBe(96 * 76);
    expect(fill.spacing).toBe(FILL_SPACING * dotWidth);
    expectGridInside(fill, box, dotWidth);
    // 96 pixels across at 24: 4 columns, 12 pixels in from each side; 76 down: 3 rows, 14 in.
    expect([...new Set(fill.dots.map((d) => d.x))]).toEqual([24, 48, 72, 96]);
    expect([...new Set(fill.dots.map((d) => d.y))]).toEqual([26, 50, 74]);
    expect(fill.dots).toHaveLength(12);
    // Anywhere in the region, the same dots.
    expect(fillRegion(image, 100, 80, dotWidth)).toEqual(fill);
  });

  test('a small region gets a closer grid, for a few dots, down to MIN_FILL_SPACING dot widths', () => {
    // 60×60 inside: four dots' worth of area is 30 pixels square, closer than 4 dot widths (40), wider than 2 (20).
    const box = { x0: 10, y0: 10, x1: 73, y1: 73 };
    const fill = fillRegion(page(90, 90, [box]), 40, 40, 10);
    expect(fill.spacing).toBe(30);
    expect(fill.dots).toEqual([
      { x: 27, y: 27 },
      { x: 57, y: 27 },
      { x: 27, y: 57 },
      { x: 57, y: 57 },
    ]);
    // Smaller still: the spacing stops at MIN_FILL_SPACING dot widths.
    const small = { x0: 10, y0: 10, x1: 43, y1: 43 };
    const closest = fillRegion(page(90, 90, [small]), 26, 26, 10);
    expect(closest.spacing).toBe(MIN_FILL_SPACING * 10);
    expectGridInside(closest, small, 10);
  });

  test("the page's edge is no boundary: dots whose disc reaches past it fit", () => {
    // A page 6 pixels high, dots 8 across: were the edges lines, no dot would fit and one would mark the region.
    const fill = fillRegion(page(100, 6, []), 50, 3, 8);
    expect(fill.spacing).toBe(MIN_FILL_SPACING * 8);
    expect(fill.dots.map((d) => d.y)).toEqual(Array(6).fill(3));
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
    expect(fillRegion(image, 5, 5, 3, { maxDots: 10 }).dots.length).toBeLessThanOrEqual(10);
  });

  test('a region thinner than a dot gets one dot, at its most interior pixel nearest the click', () => {
    // A corridor 3 pixels wide between two outlines' walls, dots 8 wide.
    const image = page(80, 40, [{ x0: 0, y0: 0, x1: 79, y1: 6 }, { x0: 0, y0: 10, x1: 79, y1: 39 }], 2);
    const fill = fillRegion(image, 40, 8, 8);
    expect(fill.area).toBe(80 * 3);
    expect(fill.spacing).toBe(0);
    expect(fill.dots).toEqual([{ x: 40, y: 8 }]);
  });
});
