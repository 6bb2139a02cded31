// Draws examples/page.png, the black-and-white page the README's first command colours: four panels of
// OpenMoji line art (CC BY-SA 4.0, see examples/README.md) with speech balloons, 768×1088 like a scanned page.
// Run once with `node tools/make-example-page.mjs`; the PNG is committed so a fresh clone needs nothing else.
import { readFileSync, mkdirSync } from 'node:fs';
import sharp from 'sharp';

const W = 768;
const H = 1088;
const MARGIN = 32;
const GUTTER = 16;
const art = (code) => readFileSync(new URL(`../node_modules/openmoji/black/svg/${code}.svg`, import.meta.url));

// Panels: [x, y, w, h], the emoji drawn in each [code, x, y, size], and a balloon [x, y, text].
const colW = (W - 2 * MARGIN - GUTTER) / 2;
const panels = [
  { box: [MARGIN, MARGIN, W - 2 * MARGIN, 300], art: [['1F3E0', 90, 60, 240], ['1F333', 330, 70, 220], ['2600', 560, 40, 150]], balloon: [520, 220, 'Home at last!'] },
  { box: [MARGIN, 348, colW, 380], art: [['1F431', 80, 440, 220]], balloon: [60, 380, 'Meow?'] },
  { box: [MARGIN + colW + GUTTER, 348, colW, 380], art: [['1F436', 460, 440, 220]], balloon: [430, 380, 'Woof!'] },
  { box: [MARGIN, 744, W - 2 * MARGIN, 312], art: [['1F697', 70, 800, 230], ['1F6B2', 300, 810, 210], ['1F338', 530, 830, 180]], balloon: [480, 790, 'Race you!'] },
];

const frames = panels
  .map(({ box: [x, y, w, h], balloon: [bx, by, text] }) => {
    const bw = 24 + text.length * 15;
    return `<rect x="${x}" y="${y}" width="${w}" height="${h}" fill="none" stroke="black" stroke-width="4"/>
      <ellipse cx="${bx + bw / 2}" cy="${by}" rx="${bw / 2}" ry="26" fill="white" stroke="black" stroke-width="3"/>
      <text x="${bx + bw / 2}" y="${by + 8}" font-family="DejaVu Sans" font-size="24" text-anchor="middle">${text}</text>`;
  })
  .join('\n');
const page = Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}"><rect width="100%" height="100%" fill="white"/>${frames}</svg>`);

const layers = await Promise.all(
  panels.flatMap((p) => p.art).map(async ([code, left, top, size]) => ({ input: await sharp(art(code)).resize(size, size).png().toBuffer(), left, top })),
);
mkdirSync(new URL('../examples/', import.meta.url), { recursive: true });
// Balloons go on top of the art so their text stays readable; the art is composited first, then the frames.
const base = await sharp({ create: { width: W, height: H, channels: 3, background: 'white' } }).composite(layers).png().toBuffer();
const framesPng = await sharp(page).png().toBuffer();
await sharp(framesPng)
  .composite([{ input: base, blend: 'multiply' }])
  .greyscale()
  .removeAlpha()
  .toColourspace('b-w')
  .toFile(new URL('../examples/page.png', import.meta.url).pathname);
console.log('wrote examples/page.png');
