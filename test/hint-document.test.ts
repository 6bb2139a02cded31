// The browser app's hint model (web/hint-document.ts): dots expand to the command line's hint pixels so that
// placeHints puts exactly the dot's disc on the model's canvas, the saved JSON reads back, and history works.
import { describe, expect, test } from 'vitest';
import { hintList, parseHintJson, placeHints } from '../src/data/hints.js';
import { dotOffsets, expandDots, HintHistory, hintsFromJson, hintsToJson, normaliseHex, strokeDots, type Dot } from '../web/hint-document.js';

/** Canvas pixels (x, y) under the mask of the placed hints. */
function maskedPixels(dots: Dot[], page: { width: number; height: number }, content: { width: number; height: number }): string[] {
  const plane = placeHints(expandDots(dots, page, content), page, content);
  const out: string[] = [];
  for (let i = 0; i < plane.width * plane.height; i++) if (plane.data[4 * i + 3] === 1) out.push(`${i % plane.width},${Math.floor(i / plane.width)}`);
  return out.sort();
}

describe('dots as hint pixels', () => {
  test('a dot of size s covers a disc s model pixels across', () => {
    expect(dotOffsets(1)).toEqual([[0, 0]]);
    expect(dotOffsets(2).length).toBe(4);
    expect(dotOffsets(3).length).toBe(9);
    expect(dotOffsets(5).length).toBe(21);
    expect(dotOffsets(9).length).toBeGreaterThan(60);
  });

  test('on a page larger than the canvas, each covered model pixel gets exactly one hint', () => {
    const page = { width: 1200, height: 1700 };
    const content = { width: 512, height: 726 };
    for (const size of [2, 3, 6, 9]) {
      const dot: Dot = { x: 611, y: 903, color: '#ff8800', size };
      const mx = Math.floor((611.5 * 512) / 1200);
      const my = Math.floor((903.5 * 726) / 1700);
      const expected = dotOffsets(size).map(([dx, dy]) => `${mx + dx},${my + dy}`).sort();
      expect(maskedPixels([dot], page, content)).toEqual(expected);
      expect(expandDots([dot], page, content).x.length).toBe(expected.length);
    }
  });

  test('a size-1 dot is its own page pixel; dots at the edge are clipped', () => {
    const page = { width: 64, height: 80 };
    expect(hintList(expandDots([{ x: 5, y: 7, color: '#000000', size: 1 }], page, page))).toEqual([{ x: 5, y: 7, rgb: [0, 0, 0] }]);
    expect(expandDots([{ x: 0, y: 0, color: '#ffffff', size: 3 }], page, page).x.length).toBe(4);
  });
});

describe('the hint file', () => {
  const page = { width: 300, height: 420 };
  const content = { width: 256, height: 359 };
  const dots: Dot[] = [
    { x: 10, y: 20, color: '#ff0000', size: 3 },
    { x: 200, y: 400, color: '#00ff88', size: 1 },
  ];

  test('is the command line JSON and reads back as the same dots', () => {
    const text = hintsToJson(dots, page, content);
    const cli = parseHintJson(text, 'saved');
    expect(cli.page).toEqual(page);
    expect(cli).toEqual(expandDots(dots, page, content));
    expect(hintsFromJson(text, page, content)).toEqual(dots);
  });

  test('a file whose dots do not match its hints (edited by hand) gives its hint pixels', () => {
    const json = JSON.parse(hintsToJson(dots, page, content));
    json.hints.push({ x: 1, y: 1, color: '#123456' });
    const read = hintsFromJson(JSON.stringify(json), page, content);
    expect(read.length).toBe(json.hints.length);
    expect(read.every((d) => d.size === 1)).toBe(true);
  });

  test('errors name the file and what is wrong', () => {
    expect(() => hintsFromJson(hintsToJson(dots, page, content), { width: 301, height: 420 }, content, 'a.json')).toThrow(/a\.json: .*300×420 page.*301×420/);
    expect(() => hintsFromJson('{"width": 300, "height": 420, "hints": [{"x": 1, "y": 1, "color": "red"}]}', page, content, 'b.json')).toThrow(/b\.json: hint 0: "red" is not a colour/);
  });
});

test('undo and redo walk the history; an edit after undo drops the redo branch', () => {
  const h = new HintHistory();
  const a: Dot = { x: 1, y: 1, color: '#ff0000', size: 3 };
  const b: Dot = { x: 2, y: 2, color: '#00ff00', size: 3 };
  h.add(a);
  h.add(b);
  expect(h.removeWhere((d) => d === a)).toBe(1);
  expect(h.dots).toEqual([b]);
  expect(h.undo()).toBe(true);
  expect(h.dots).toEqual([a, b]);
  expect(h.undo() && h.undo()).toBe(true);
  expect(h.dots).toEqual([]);
  expect(h.undo()).toBe(false);
  expect(h.redo()).toBe(true);
  h.add(b);
  expect(h.canRedo).toBe(false);
  expect(h.dots).toEqual([a, b]);
  expect(normaliseHex('#ABC')).toBe('#aabbcc');
  expect(normaliseHex('12345g')).toBeNull();
});

test('a brush stroke is dots one spacing apart along the dragged path, its ends included, saved as dots the command line reads', () => {
  const path = [{ x: 10.4, y: 20.7 }, { x: 10.6, y: 20.9 }, { x: 40.2, y: 20.9 }, { x: 40.2, y: 31.5 }];
  const dots = strokeDots(path, 5);
  expect(dots[0]).toEqual({ x: 10, y: 20 });
  expect(dots.at(-1)).toEqual({ x: 40, y: 31 });
  // Neighbours are one spacing apart along the path (the corner cuts one gap short).
  for (let i = 1; i < dots.length - 1; i++) expect(Math.hypot(dots[i].x - dots[i - 1].x, dots[i].y - dots[i - 1].y)).toBeLessThanOrEqual(5.5);
  // 40.5 pixels long: the start, 8 dots at 5, 10, … 40 along, and the end, which shares the last one's pixel.
  expect(dots.length).toBe(9);
  expect(new Set(dots.map((d) => `${d.x},${d.y}`)).size).toBe(dots.length);
  expect(strokeDots([{ x: 3, y: 4 }], 5)).toEqual([{ x: 3, y: 4 }]);
  // Saved, a stroke is hints of its colour at every dot, as the command line reads them.
  const page = { width: 64, height: 48 };
  const json = hintsToJson(dots.map((d) => ({ ...d, color: '#3366ff', size: 1 })), page, page);
  const read = parseHintJson(json, 'stroke');
  expect(hintList(read).map((h) => `${h.x},${h.y}`).sort()).toEqual(dots.map((d) => `${d.x},${d.y}`).sort());
});
