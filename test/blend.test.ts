// The blend of the network's colour with the page at the page's size (src/colorize/recombine.ts): whatever the
// network outputs, the default blend keeps the page's ink (within 8/255 of its luminance, hardly any colour)
// and its lettering readable. CPU only.
import { describe, expect, test } from 'vitest';
import { BLEND_MODES, chooseBlend, DEFAULT_BLEND, recombine, type BlendMode } from '../src/colorize/recombine.js';
import { createPlane, LUMA, toGrey, type Plane } from '../src/data/plane.js';
import { seededRng } from '../src/data/random.js';
import { resizeArea } from '../src/data/resize.js';
import { greyPage } from './helpers/colorize.js';

const luma = (p: Plane, i: number) => LUMA[0] * p.data[3 * i] + LUMA[1] * p.data[3 * i + 1] + LUMA[2] * p.data[3 * i + 2];
const chroma = (p: Plane, i: number) => Math.max(p.data[3 * i], p.data[3 * i + 1], p.data[3 * i + 2]) - Math.min(p.data[3 * i], p.data[3 * i + 1], p.data[3 * i + 2]);

/** Network outputs that misbehave in the ways issue 14 saw: random colour noise, a brown glow, grey mush, lines painted over in a bright colour. */
function badOutputs(width: number, height: number): Record<string, Plane> {
  const rng = seededRng(3);
  const fill = (f: (i: number) => number[]) => createPlane(width, height, 3, Float32Array.from({ length: width * height * 3 }, (_, k) => f(Math.floor(k / 3))[k % 3]));
  return {
    noise: fill(() => [rng.next(), rng.next(), rng.next()]),
    brown: fill(() => [0.45, 0.3, 0.15]),
    grey: fill(() => [0.5, 0.5, 0.5]),
    bright: fill(() => [1, 0.85, 0.2]),
    black: fill(() => [0, 0, 0]),
  };
}

/** A white page with rows of 8-pixel letters: 1-pixel black strokes, a letter every 7 pixels. */
function letteringPage(width: number, height: number): { page: Plane; ink: Uint8Array } {
  const grey = new Float32Array(width * height).fill(1);
  const ink = new Uint8Array(width * height);
  const rng = seededRng(8);
  const set = (x: number, y: number) => {
    grey[y * width + x] = 0.02;
    ink[y * width + x] = 1;
  };
  for (let top = 10; top + 8 < height - 10; top += 14) {
    for (let left = 10; left + 6 < width - 10; left += 7) {
      // A letter-like glyph in a 5×8 box: two verticals or a vertical and bars.
      const kind = rng.int(3);
      for (let y = 0; y < 8; y++) set(left, top + y);
      if (kind === 0) for (let y = 0; y < 8; y++) set(left + 4, top + y);
      for (let x = 0; x < 5; x++) {
        if (kind !== 0) set(left + x, top);
        if (kind === 1) set(left + x, top + 4);
        if (kind === 2) set(left + x, top + 7);
      }
    }
  }
  const page = createPlane(width, height, 3, Float32Array.from({ length: width * height * 3 }, (_, k) => grey[Math.floor(k / 3)]));
  return { page, ink };
}

describe('blend with the page', () => {
  test('an output equal to the network\'s grey input gives back the page in every mode', () => {
    const page = greyPage(150, 210, 2);
    const grey = toGrey(page);
    const small = resizeArea(grey, 64, 90);
    const identity = createPlane(64, 90, 3, Float32Array.from({ length: 64 * 90 * 3 }, (_, i) => small.data[Math.floor(i / 3)]));
    for (const mode of BLEND_MODES) {
      const back = recombine(page, identity, mode);
      let worst = 0;
      for (let i = 0; i < back.data.length; i++) worst = Math.max(worst, Math.abs(back.data[i] - grey.data[Math.floor(i / 3)]));
      expect(worst, mode).toBeLessThan(mode === 'multiply' ? 3e-3 : 1e-5);
    }
  });

  test('ink stays within 8/255 of its luminance with at most a trace of colour, whatever the network outputs', () => {
    const page = greyPage(180, 240, 5);
    const grey = toGrey(page);
    let inkPixels = 0;
    for (const [name, out] of Object.entries(badOutputs(60, 80))) {
      for (const mode of ['auto', 'multiply', 'luminance'] as BlendMode[]) {
        const result = recombine(page, out, mode);
        let worst = 0;
        let worstChroma = 0;
        inkPixels = 0;
        for (let i = 0; i < grey.data.length; i++) {
          if (grey.data[i] >= 0.1) continue;
          inkPixels++;
          worst = Math.max(worst, Math.abs(luma(result, i) - grey.data[i]));
          worstChroma = Math.max(worstChroma, chroma(result, i));
          // Never lighter than the page in multiply.
          if ((mode === 'auto' ? chooseBlend(grey) : mode) === 'multiply') for (let c = 0; c < 3; c++) expect(result.data[3 * i + c]).toBeLessThanOrEqual(grey.data[i] + 1e-6);
        }
        expect(worst * 255, `${name}, ${mode}`).toBeLessThanOrEqual(8);
        expect(worstChroma * 255, `${name}, ${mode}`).toBeLessThanOrEqual(8);
      }
    }
    expect(inkPixels).toBeGreaterThan(500);
    expect(DEFAULT_BLEND).toBe('auto');
  });

  test('auto takes a grey render for a grey page (luminance) and ink on paper for line art (multiply)', () => {
    const grey = toGrey(greyPage(160, 120, 4));
    // Line art: the lettering page, and ink strokes on paper with anti-aliased edges (a few mid-grey pixels each).
    const lettering = toGrey(letteringPage(200, 120).page);
    const strokes = createPlane(160, 120, 1, Float32Array.from({ length: 160 * 120 }, (_, i) => {
      const d = Math.abs((i % 160) - 20 * Math.round((i % 160) / 20));
      return d === 0 ? 0.02 : d === 1 ? 0.55 : 1;
    }));
    // A grey render: smooth mid-grey shading over most of the drawing, white background around it.
    const render = createPlane(160, 120, 1, Float32Array.from({ length: 160 * 120 }, (_, i) => {
      const [x, y] = [i % 160, Math.floor(i / 160)];
      const r = Math.hypot(x - 80, y - 60);
      return r > 50 ? 1 : r > 48 ? 0.05 : 0.3 + 0.5 * (x / 160);
    }));
    expect(chooseBlend(lettering)).toBe('multiply');
    expect(chooseBlend(strokes)).toBe('multiply');
    expect(chooseBlend(render)).toBe('luminance');
    expect(chooseBlend(createPlane(8, 8, 1, new Float32Array(64).fill(1)))).toBe('multiply'); // blank paper
    // auto is exactly the blend it picks.
    for (const page of [grey, render, lettering]) {
      const rgb = createPlane(page.width, page.height, 3, Float32Array.from({ length: page.data.length * 3 }, (_, k) => page.data[Math.floor(k / 3)]));
      const out = badOutputs(40, 30).noise;
      expect(recombine(rgb, out, 'auto').data).toEqual(recombine(rgb, out, chooseBlend(page)).data);
    }
  });

  test('a page of 8-pixel lettering keeps its contrast in the default blend (the old detail blend gives no guarantee)', () => {
    const { page, ink } = letteringPage(320, 200);
    const means = (p: Plane) => {
      let [inkSum, inkN, paperSum, paperN] = [0, 0, 0, 0];
      for (let i = 0; i < ink.length; i++) {
        if (ink[i]) [inkSum, inkN] = [inkSum + luma(p, i), inkN + 1];
        else [paperSum, paperN] = [paperSum + luma(p, i), paperN + 1];
      }
      return { ink: inkSum / inkN, paper: paperSum / paperN };
    };
    // WCAG's contrast ratio of the mean paper (the non-ink pixels) to the mean ink, and Weber's (paper − ink) / paper.
    const ratio = (p: Plane) => (means(p).paper + 0.05) / (means(p).ink + 0.05);
    const weber = (p: Plane) => 1 - means(p).ink / means(p).paper;
    expect(ratio(page)).toBeGreaterThan(14);
    expect(weber(page)).toBeGreaterThan(0.97);
    // The network sees the page at a third of its size, where the letters are grey smudges.
    const outputs = badOutputs(107, 67);
    for (const [name, out] of Object.entries(outputs)) {
      const result = recombine(page, out, 'multiply');
      let worst = 0;
      for (let i = 0; i < ink.length; i++) if (ink[i]) worst = Math.max(worst, Math.abs(luma(result, i) - luma(page, i)));
      expect(worst * 255, name).toBeLessThanOrEqual(8);
      // Readable: the letters keep their contrast to the paper around them (Weber), and unless the network painted
      // the paper black (where no blend that keeps the page's ink can help), at least WCAG AA's 4.5:1.
      if (name === 'black') continue;
      expect(weber(result), name).toBeGreaterThan(0.9 * weber(page));
      expect(ratio(result), name).toBeGreaterThan(4.5);
    }
    // The detail blend gives no such guarantee: some of these outputs lift the letters' ink well above 8/255.
    let detailWorst = 0;
    for (const out of Object.values(outputs)) {
      const result = recombine(page, out, 'detail');
      for (let i = 0; i < ink.length; i++) if (ink[i]) detailWorst = Math.max(detailWorst, luma(result, i) - luma(page, i));
    }
    expect(detailWorst * 255).toBeGreaterThan(40);
  });
});
