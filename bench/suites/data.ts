// The data pipeline on a 512×768 working page (REFERENCE §2, §7): XDoG at mult 7 (GPU filters + energy,
// histogram and threshold kernels), the distance field (CPU, exact EDT), and the whole preprocessing of one
// 1000×1500 page from its PNG bytes to the generator's 6-channel input. No peer: nothing else computes these.
import sharp from 'sharp';
import { distanceField } from '../../src/data/distance.js';
import { planeToBytes } from '../../src/data/plane.js';
import { preprocessPage } from '../../src/data/preprocess.js';
import { xdog } from '../../src/data/xdog.js';
import { decodeImage } from '../../src/io/image.js';
import { syntheticPage } from '../../test/helpers/pages.js';
import type { BenchCase, BenchSuite } from '../harness.js';

export const dataSuite: BenchSuite = {
  name: 'data',
  async cases() {
    const working = syntheticPage(512, 768, 1);
    const sketch = await xdog(working, { mult: 7 });
    const big = syntheticPage(1000, 1500, 2);
    const png = await sharp(planeToBytes(big), { raw: { width: 1000, height: 1500, channels: 3 } }).png().toBuffer();
    const cases: BenchCase[] = [
      {
        suite: 'data',
        name: 'xdog mult 7 @512x768',
        flops: null,
        async ours() {
          await xdog(working, { mult: 7 });
        },
      },
      {
        suite: 'data',
        name: 'distance field @512x768',
        flops: null,
        async ours() {
          distanceField(sketch);
        },
      },
      {
        suite: 'data',
        name: 'preprocess page 1000x1500 png',
        flops: null,
        async ours() {
          await preprocessPage(await decodeImage(png, 'page.png'));
        },
      },
    ];
    return cases;
  },
};
