// The colorize command's cost per page: the whole page pipeline of src/colorize/pipeline.ts (resize_pad, XDoG at
// mult 7, distance field, the published extractor and v1 generator with random weights, readback and
// recombination) on a 512×768 grey page, the published working size (bench --size changes it). On a GPU adapter also a 20-page chapter,
// pages one after another as `npm run colorize` runs them, logged as pages/min (the record's ours_ms is the
// chapter's time). On a software adapter a chapter would take most of an hour; the per-page time says the same.
// `rerun` is the interactive loop's cost — what the browser app does between pointer-up and the new result —
// measured here on Dawn as its proxy: the page prepared once (line art, distance field, extractor features), then
// only the rest of the generator, readback and recombination for a new set of three dots.
import { colorizePage, PageSession } from '../../src/colorize/pipeline.js';
import { hintSet, type HintSet } from '../../src/data/hints.js';
import type { ColorModel } from '../../src/colorize/model.js';
import { createPlane, toGrey, type Plane } from '../../src/data/plane.js';
import { engine } from '../../src/engine/engine.js';
import { ColorizerV1 } from '../../src/nets/colorizer.js';
import { EXTRACTOR_V1, SEResNeXt } from '../../src/nets/extractor.js';
import { GENERATOR_V1, GeneratorV1 } from '../../src/nets/generator-v1.js';
import { syntheticPage } from '../../test/helpers/pages.js';
import type { BenchCase, BenchSuite } from '../harness.js';

/** Pages of the chapter case; BENCH_CHAPTER=N changes it and runs the case on a software adapter too. */
const CHAPTER = Number(process.env.BENCH_CHAPTER ?? 20);

function greyPage(W: number, H: number, seed: number): Plane {
  const grey = toGrey(syntheticPage(W, H, seed));
  return createPlane(W, H, 3, Float32Array.from({ length: W * H * 3 }, (_, i) => grey.data[Math.floor(i / 3)]));
}

export const colorizeSuite: BenchSuite = {
  name: 'colorize',
  async cases({ page: { width: W, height: H } }) {
    const e = engine();
    const generator = new GeneratorV1(GENERATOR_V1);
    const extractor = new SEResNeXt(EXTRACTOR_V1);
    const colorizer = new ColorizerV1(generator, extractor);
    const model: ColorModel = {
      arch: 'v1',
      colorizer,
      denoiser: null,
      defaultSize: Math.min(W, H, 512),
      hintInput: 'dots',
      description: 'published v1 generator and extractor, random weights',
      dispose() {
        colorizer.clearPage();
        generator.dispose();
        extractor.dispose();
      },
    };
    const page = greyPage(W, H, 1);
    const cases: BenchCase[] = [
      {
        suite: 'colorize',
        name: `page v1 ${W}x${H}`,
        flops: null,
        async ours() {
          await colorizePage(model, page);
        },
        async agree() {
          return `${page.width}×${page.height} grey page, published v1 generator + extractor (${((generator.parameterCount() + extractor.parameterCount()) / 1e6).toFixed(1)} M parameters, random)`;
        },
      },
    ];
    // Three dots, as a user places them; each run moves one so every rerun sees a new hint set.
    let moved = 0;
    const dots = (): HintSet =>
      hintSet({ width: W, height: H }, [
        { x: Math.round(W * 0.2) + (moved++ % Math.round(W / 10)), y: Math.round(H * 0.26), rgb: [0.9, 0.2, 0.2] },
        { x: Math.round(W * 0.59), y: Math.round(H * 0.52), rgb: [0.2, 0.4, 0.9] },
        { x: Math.round(W * 0.49), y: Math.round(H * 0.85), rgb: [0.9, 0.8, 0.3] },
      ]);
    let session: PageSession | null = null;
    cases.push({
      suite: 'colorize',
      name: `rerun after a hint change v1 ${W}x${H}`,
      flops: null,
      async ours() {
        session ??= await PageSession.open(model, page);
        await session.colorize({ hints: dots() });
      },
      dispose() {
        session?.dispose();
      },
    });
    if (!e.gpu.software || process.env.BENCH_CHAPTER) {
      const chapter = Array.from({ length: CHAPTER }, (_, i) => greyPage(W, H, i + 2));
      let last = 0;
      cases.push({
        suite: 'colorize',
        name: `chapter ${CHAPTER} pages v1 ${W}x${H}`,
        flops: null,
        async ours() {
          const start = performance.now();
          for (const p of chapter) await colorizePage(model, p);
          last = (CHAPTER * 60_000) / (performance.now() - start);
        },
        async agree() {
          await this.ours();
          return `${last.toFixed(1)} pages/min`;
        },
      });
    }
    // The model outlives every case: the last one frees it after its own state.
    const last = cases[cases.length - 1];
    const own = last.dispose;
    last.dispose = () => {
      own?.();
      model.dispose();
    };
    return cases;
  },
};
