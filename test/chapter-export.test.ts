// What the app's Export CBZ writes and says (web/chapter-export.ts), without a browser: the archive's order, coloured
// pages as PNG, pages in colour and unreadable ones as they were, other entries unchanged, and the report.
import { describe, expect, test } from 'vitest';
import { exportedEntries, exportReport, unreadableEntries, type PageOutcome } from '../web/chapter-export.js';

const bytes = (...values: number[]) => new Uint8Array(values);

describe('Export CBZ', () => {
  const entries = [
    { name: 'ch/ComicInfo.xml', bytes: bytes(1) },
    { name: 'ch/01.jpg', bytes: bytes(2) },
    { name: 'ch/02.png', bytes: bytes(3) },
    { name: 'ch/03.webp', bytes: bytes(4) },
    { name: 'ch/04.png', bytes: bytes(5) },
  ];
  const outcomes = new Map<string, PageOutcome>([
    ['ch/01.jpg', { kind: 'coloured', png: bytes(20) }],
    ['ch/02.png', { kind: 'in-colour', colourfulness: 41.25 }],
    ['ch/03.webp', { kind: 'unreadable', error: 'ch/03.webp could not be decoded as an image.' }],
    ['ch/04.png', { kind: 'coloured', png: bytes(50) }],
  ]);

  test("keeps the archive's order: coloured pages as PNG, the others and other entries as they were", () => {
    expect(exportedEntries(entries, outcomes)).toEqual([
      { name: 'ch/ComicInfo.xml', bytes: bytes(1) },
      { name: 'ch/01.png', bytes: bytes(20) },
      { name: 'ch/02.png', bytes: bytes(3) },
      { name: 'ch/03.webp', bytes: bytes(4) },
      { name: 'ch/04.png', bytes: bytes(50) },
    ]);
  });

  test('a coloured page whose PNG name is taken keeps its extension in its name', () => {
    const pages = [
      { name: '01.png', bytes: bytes(1) },
      { name: '01.jpg', bytes: bytes(2) },
    ];
    const coloured = new Map<string, PageOutcome>([
      ['01.png', { kind: 'in-colour', colourfulness: 30 }],
      ['01.jpg', { kind: 'coloured', png: bytes(9) }],
    ]);
    expect(exportedEntries(pages, coloured).map((e) => e.name)).toEqual(['01.png', '01.jpg.png']);
  });

  test('reports what could not be read as an error, and the pages left in colour', () => {
    expect(exportReport(outcomes, ['ch.cbz: notes.txt fails its CRC-32 check (damaged).'])).toEqual({
      kind: 'error',
      text:
        'Exported; 1 page could not be read and is in the archive as it was:\nch/03.webp could not be decoded as an image.\n' +
        '1 entry of the archive could not be read and is left out:\nch.cbz: notes.txt fails its CRC-32 check (damaged).\n' +
        'Left 1 page already in colour as it was (colourfulness ≥ 20, as the command line does; Export PNG gives it coloured):\nch/02.png (colourfulness 41.3)',
    });
  });

  test('pages left in colour alone are a note; every page coloured says nothing more', () => {
    const inColour = new Map<string, PageOutcome>([
      ['a.png', { kind: 'in-colour', colourfulness: 20 }],
      ['b.png', { kind: 'in-colour', colourfulness: 88.04 }],
      ['c.png', { kind: 'coloured', png: bytes(1) }],
    ]);
    expect(exportReport(inColour, [])).toEqual({
      kind: 'info',
      text: 'Exported. Left 2 pages already in colour as they were (colourfulness ≥ 20, as the command line does; Export PNG gives one coloured):\na.png (colourfulness 20.0)\nb.png (colourfulness 88.0)',
    });
    expect(exportReport(new Map([['c.png', { kind: 'coloured', png: bytes(1) }]]), [])).toBeNull();
  });

  test('names the entries that could not be read', () => {
    expect(unreadableEntries(['a: damaged', 'b: encrypted'])).toBe('2 entries of the archive could not be read and are left out:\na: damaged\nb: encrypted');
  });
});
