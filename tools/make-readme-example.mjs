// Draws docs/example-page.png for the README's first example: examples/page.png, what
// `npm run colorize -- examples/page.png` made of it without hints (examples/page_colorized.png), and what it made
// with the dots of examples/page-hints.json (examples/page_hinted.png), each 384 pixels wide.
// Run after those commands, whenever the shipped model or the blend changes:
//   npm run colorize -- examples/page.png --force
//   npm run colorize -- examples/page.png --hints examples/page-hints.json -o examples/page_hinted.png --force
//   node tools/make-readme-example.mjs
import { existsSync, readFileSync } from 'node:fs';
import sharp from 'sharp';

const file = (name) => new URL(`../examples/${name}`, import.meta.url).pathname;
const tiles = ['page.png', 'page_colorized.png', 'page_hinted.png'].map(file);
for (const missing of tiles.filter((t) => !existsSync(t))) {
  console.error(`${missing} is missing: run the commands in this file's header first.`);
  process.exit(1);
}
const WIDTH = 384;
const GAP = 8;
const tile = (path) => sharp(path).resize({ width: WIDTH }).removeAlpha().toColourspace('srgb').png().toBuffer({ resolveWithObject: true });
const [page, plain, hinted] = await Promise.all(tiles.map(tile));

// The hints drawn on the third tile as the app shows them: a dot of the hint's colour in a dark ring.
const { width, height, hints } = JSON.parse(readFileSync(file('page-hints.json'), 'utf8'));
const scale = WIDTH / width;
const dots = hints
  .map(({ x, y, color }) => `<circle cx="${(x * scale).toFixed(1)}" cy="${(y * scale).toFixed(1)}" r="4" fill="${color}" stroke="#202020" stroke-width="1.5"/>`)
  .join('');
const overlay = Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${Math.round(height * scale)}">${dots}</svg>`);

const rows = Math.max(page.info.height, plain.info.height, hinted.info.height);
await sharp({ create: { width: 3 * WIDTH + 2 * GAP, height: rows, channels: 3, background: '#ffffff' } })
  .composite([
    { input: page.data, left: 0, top: 0 },
    { input: plain.data, left: WIDTH + GAP, top: 0 },
    { input: hinted.data, left: 2 * (WIDTH + GAP), top: 0 },
    { input: overlay, left: 2 * (WIDTH + GAP), top: 0 },
  ])
  .png({ palette: true, colours: 128 })
  .toFile(new URL('../docs/example-page.png', import.meta.url).pathname);
console.log('wrote docs/example-page.png');
