// Draws docs/example-page.png for the README's first example: examples/page.png beside what
// `npm run colorize -- examples/page.png` made of it (examples/page_colorized.png), each 384 pixels wide.
// Run after that command, whenever the shipped model or the blend changes:
//   npm run colorize -- examples/page.png --force && node tools/make-readme-example.mjs
import { existsSync } from 'node:fs';
import sharp from 'sharp';

const input = new URL('../examples/page.png', import.meta.url).pathname;
const output = new URL('../examples/page_colorized.png', import.meta.url).pathname;
if (!existsSync(output)) {
  console.error('examples/page_colorized.png is missing: run `npm run colorize -- examples/page.png` first.');
  process.exit(1);
}
const WIDTH = 384;
const GAP = 8;
const tile = (file) => sharp(file).resize({ width: WIDTH }).removeAlpha().toColourspace('srgb').png().toBuffer({ resolveWithObject: true });
const [a, b] = await Promise.all([tile(input), tile(output)]);
const height = Math.max(a.info.height, b.info.height);
await sharp({ create: { width: 2 * WIDTH + GAP, height, channels: 3, background: '#ffffff' } })
  .composite([{ input: a.data, left: 0, top: 0 }, { input: b.data, left: WIDTH + GAP, top: 0 }])
  .png({ palette: true, colours: 128 })
  .toFile(new URL('../docs/example-page.png', import.meta.url).pathname);
console.log('wrote docs/example-page.png');
