// The colorize building blocks (src/colorize): model loading and detection, the page pipeline with hints and
// auto-hint, recombination at the page's resolution, the colourfulness measure and batch hint files. Random
// tiny generators keep every forward pass to a fraction of a second on a software adapter.
import { describe, expect, test } from 'vitest';
import { AUTO_HINT_DENSITY, autoHintMask, isGreyish } from '../src/colorize/auto-hint.js';
import { colourfulness, COLOUR_THRESHOLD } from '../src/colorize/colourfulness.js';
import { hintsForPage, parseHintsFile, unusedPageNames } from '../src/colorize/hint-files.js';
import { hintList, hintSet } from '../src/data/hints.js';
import { DEFAULT_MODEL_PATH, detectArchitecture, loadColorModel, ModelError } from '../src/colorize/model.js';
import { colorizePage, PageSession } from '../src/colorize/pipeline.js';
import { workingShortSide } from '../src/colorize/working-size.js';
import { recombine } from '../src/colorize/recombine.js';
import { createPlane, toGrey, type Plane } from '../src/data/plane.js';
import { seededRng } from '../src/data/random.js';
import { resizeArea, resizeBilinear } from '../src/data/resize.js';
import { inkBrightness } from '../src/eval/metrics.js';
import { readCheckpoint } from '../src/io/checkpoint.js';
import { readImage } from '../src/io/image.js';
import { writeSafetensors } from '../src/io/safetensors.js';
import { Generator } from '../src/kernels/random.js';
import { GENERATOR_V2, GeneratorV2 } from '../src/nets/generator-v2.js';
import { readFileSync } from 'node:fs';
import { useTestEngine } from './helpers/gpu.js';
import { extractorFile, greyPage, tinyGenerator } from './helpers/colorize.js';
import { syntheticPage } from './helpers/pages.js';

const engine = useTestEngine();

const meanAbsDiff = (a: Plane, b: Plane, x0: number, y0: number, x1: number, y1: number) => {
  let sum = 0;
  let n = 0;
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) for (let c = 0; c < 3; c++, n++) sum += Math.abs(a.data[(y * a.width + x) * 3 + c] - b.data[(y * b.width + x) * 3 + c]);
  return sum / n;
};

describe('loadColorModel', () => {
  test('the project format without the extractor needs no other file; detection names other networks', async () => {
    const weights = await tinyGenerator({ localFeatures: 'none' });
    const model = loadColorModel({ weights });
    expect(model.arch).toBe('v1');
    expect(model.defaultSize).toBe(512);
    expect(model.description).toMatch(/project v1 generator, preset tiny, no extractor/);
    model.dispose();
    const extractor = await extractorFile();
    expect(() => loadColorModel({ weights, extractor })).toThrow(/trained without the extractor.*leave out --extractor/);
    expect(() => detectArchitecture(readCheckpoint(extractor.bytes).tensors, 'x.safetensors')).toThrow(/SE-ResNeXt extractor: pass it with --extractor/);
    expect(() => loadColorModel({ weights: { bytes: new TextEncoder().encode('version https://git-lfs.github.com/spec/v1\n'), name: 'g.pth' } })).toThrow(ModelError);
  });

  test('a generator that uses the extractor refuses to run without it; with it, it runs', async () => {
    const weights = await tinyGenerator({ localFeatures: 'extractor' });
    expect(() => loadColorModel({ weights })).toThrow(/needs the published SE-ResNeXt extractor: pass it with --extractor/);
    const model = loadColorModel({ weights, extractor: await extractorFile() });
    const page = syntheticPage(70, 90, 3);
    const result = await colorizePage(model, page, { size: 64 });
    expect([result.image.width, result.image.height, result.passes]).toEqual([70, 90, 1]);
    model.dispose();
  });

  test('the published v2 layout is detected and colours the grey page (random weights)', async () => {
    const generator = new GeneratorV2(GENERATOR_V2, { rng: new Generator(4) });
    const bytes = writeSafetensors(await generator.stateDict());
    generator.dispose();
    const model = loadColorModel({ weights: { bytes, name: 'generator.zip' } });
    expect([model.arch, model.defaultSize]).toEqual(['v2', 576]);
    const result = await colorizePage(model, greyPage(64, 90, 5), { size: 64 });
    expect(result.working).toEqual({ width: 64, height: 90 });
    expect([result.image.width, result.image.height]).toEqual([64, 90]);
    expect(result.image.data.every((v) => v >= 0 && v <= 1)).toBe(true);
    model.dispose();
  });

  test('--arch forces the architecture and a mismatch is reported tensor by tensor', async () => {
    const weights = await tinyGenerator({ localFeatures: 'none' });
    expect(() => loadColorModel({ weights, arch: 'v2' })).toThrow(/tiny\.safetensors: The checkpoint does not match GeneratorV2/);
  });
});

describe('colorizePage', () => {
  test('a model whose hintInput is spread gets its hints spread over the line art; a bad hintInput is refused', async () => {
    await expect(tinyGenerator({ localFeatures: 'none', hintInput: 'blobs' }).then((weights) => loadColorModel({ weights }))).rejects.toThrow(
      /tiny\.safetensors: its "hintInput" metadata is "blobs", expected one of dots, spread/,
    );
    const page = greyPage(96, 128, 7);
    const hints = hintSet({ width: 96, height: 128 }, [{ x: 24, y: 30, rgb: [1, 0, 0] }]);
    const changeFarAway = async (hintInput: string) => {
      const model = loadColorModel({ weights: await tinyGenerator({ localFeatures: 'none', hintInput }) });
      try {
        expect(model.hintInput).toBe(hintInput);
        const plain = await colorizePage(model, page, { size: 64, output: 'model' });
        const hinted = await colorizePage(model, page, { size: 64, output: 'model', hints });
        return meanAbsDiff(plain.image, hinted.image, 40, 60, 64, 86); // far from the dot at (16, 20)
      } finally {
        model.dispose();
      }
    };
    const [dots, spread] = [await changeFarAway('dots'), await changeFarAway('spread')];
    expect(spread).toBeGreaterThan(10 * dots + 1e-4);
  });

  test('a model with the hint gate passes a hint colour through at the dot; a bad hintGate is refused', async () => {
    await expect(tinyGenerator({ localFeatures: 'none', hintInput: 'spread', hintGate: 'maybe' }).then((weights) => loadColorModel({ weights }))).rejects.toThrow(
      /tiny\.safetensors: its "generator" metadata has hintGate "maybe"; "on" or "off" is expected/,
    );
    const model = loadColorModel({ weights: await tinyGenerator({ localFeatures: 'none', hintInput: 'spread', hintGate: 'on' }) });
    try {
      expect(model.description).toMatch(/hint gate/);
      const page = greyPage(96, 128, 7);
      const dot = { x: 24, y: 30 };
      const plain = await colorizePage(model, page, { size: 64, output: 'model' });
      const hinted = await colorizePage(model, page, { size: 64, output: 'model', hints: hintSet({ width: 96, height: 128 }, [{ ...dot, rgb: [1, 0, 0] }]) });
      // At the dot the confidence is 1 and the gate (random weights) about half open: red rises, green and blue fall.
      const [hx, hy] = [Math.floor((dot.x + 0.5) * 64 / 96), Math.floor((dot.y + 0.5) * 86 / 128)];
      const at = (image: typeof plain.image, c: number) => image.data[(hy * image.width + hx) * image.channels + c];
      expect(at(hinted.image, 0) - at(plain.image, 0)).toBeGreaterThan(0.05);
      expect(at(hinted.image, 1) - at(plain.image, 1)).toBeLessThan(0);
    } finally {
      model.dispose();
    }
  });

  test('hints change the colour where they are; auto-hint runs a second pass', async () => {
    const model = loadColorModel({ weights: await tinyGenerator({ localFeatures: 'none' }) });
    const page = greyPage(96, 128, 7);
    const live = engine().memory().liveTensors;
    const plain = await colorizePage(model, page, { size: 64, output: 'model' });
    expect(engine().memory().liveTensors).toBe(live); // the page cache and every temporary are freed
    expect([plain.image.width, plain.image.height, plain.passes]).toEqual([64, 86, 1]);
    const dot = { x: 24, y: 30 };
    const hints = hintSet({ width: 96, height: 128 }, [{ ...dot, rgb: [1, 0, 0] }]);
    const hinted = await colorizePage(model, page, { size: 64, output: 'model', hints });
    const [hx, hy] = [Math.floor((dot.x + 0.5) * 64 / 96), Math.floor((dot.y + 0.5) * 86 / 128)];
    const near = meanAbsDiff(plain.image, hinted.image, hx - 2, hy - 2, hx + 3, hy + 3);
    const far = meanAbsDiff(plain.image, hinted.image, 40, 60, 64, 86);
    expect(near).toBeGreaterThan(1e-3);
    expect(near).toBeGreaterThan(5 * far);

    const auto = await colorizePage(model, page, { size: 64, output: 'model', autoHint: { density: 0.02, seed: 3 } });
    expect(auto.passes).toBe(2);
    expect(auto.autoHints).toBeGreaterThan(20);
    expect(meanAbsDiff(plain.image, auto.image, 0, 0, 64, 86)).toBeGreaterThan(0);
    // Same seed, same samples, same page.
    const again = await colorizePage(model, page, { size: 64, output: 'model', autoHint: { density: 0.02, seed: 3 } });
    expect(again.autoHints).toBe(auto.autoHints);
    expect([...again.image.data]).toEqual([...auto.image.data]);
    model.dispose();
  });

  test('a PageSession colours one prepared page per hint set as colorizePage does, until another page supersedes it', async () => {
    const model = loadColorModel({ weights: await tinyGenerator({ localFeatures: 'none' }) });
    const page = greyPage(96, 128, 7);
    const hints = hintSet({ width: 96, height: 128 }, [{ x: 24, y: 30, rgb: [1, 0, 0] }]);
    const autoHint = { density: 0.02, seed: 3 };
    const live = engine().memory().liveTensors;
    const stages: string[] = [];
    const session = await PageSession.open(model, page, { size: 64, onStage: (s) => stages.push(s) });
    expect(session.placement.content).toEqual({ width: 64, height: 86 });
    const recordings = engine().counters.recordings;
    for (const options of [{ hints }, { hints, autoHint }]) {
      const once = await colorizePage(model, page, { size: 64, ...options });
      await expect(session.colorize(options)).rejects.toThrow(/no longer prepared.*open it again/);
      const again = await PageSession.open(model, page, { size: 64 });
      const result = await again.colorize({ ...options, onStage: (s) => stages.push(s) });
      expect([...result.image.data]).toEqual([...once.image.data]);
      expect(result.autoHints).toBe(once.autoHints);
      session.dispose(); // superseded: leaves the newer session's cache alone
      expect((await again.colorize(options)).image.data).toEqual(result.image.data);
      again.dispose();
    }
    // Each session records its generator pass once and replays it for every later pass (auto-hint's second too).
    expect(engine().counters.recordings - recordings).toBe(4);
    expect(engine().memory().recordedBytes).toBe(0);
    expect(engine().memory().liveTensors).toBe(live);
    expect(stages).toEqual(['line art and distance field…', 'page features…', 'colouring…', 'recombining with the page…', 'colouring…', 'colouring with auto-hints…', 'recombining with the page…']);
    model.dispose();
  });

  test('v2 landscape pages work at 1.5× the size on their short side', () => {
    expect(workingShortSide('v2', { width: 300, height: 200 }, 576)).toBe(864);
    expect(workingShortSide('v2', { width: 200, height: 300 }, 576)).toBe(576);
    expect(workingShortSide('v1', { width: 300, height: 200 }, 512)).toBe(512);
  });
});

describe('recombine', () => {
  test('detail blend: a network output equal to its grey input gives back the page exactly; colour keeps the page\'s ink', () => {
    const page = greyPage(150, 210, 2);
    const grey = toGrey(page);
    const small = resizeArea(grey, 64, 90);
    const identity = createPlane(64, 90, 3, Float32Array.from({ length: 64 * 90 * 3 }, (_, i) => small.data[Math.floor(i / 3)]));
    const back = recombine(page, identity, 'detail');
    let worst = 0;
    for (let i = 0; i < back.data.length; i++) worst = Math.max(worst, Math.abs(back.data[i] - grey.data[Math.floor(i / 3)]));
    expect(worst).toBeLessThan(1e-5);
    // A flat colour: the page's dark strokes stay dark at full resolution, its paper takes the colour.
    const flat = createPlane(64, 90, 3, Float32Array.from({ length: 64 * 90 * 3 }, (_, i) => [0.9, 0.6, 0.3][i % 3] * small.data[Math.floor(i / 3)]));
    const out = recombine(page, flat, 'detail');
    for (let i = 0; i < grey.data.length; i++) {
      if (grey.data[i] < 0.05) expect(Math.max(out.data[3 * i], out.data[3 * i + 1], out.data[3 * i + 2])).toBeLessThan(0.35);
    }
  });

  test('bilinear resampling keeps constants and linear ramps', () => {
    const ramp = createPlane(4, 1, 1, Float32Array.from([0, 1, 2, 3]));
    const up = resizeBilinear(ramp, 8, 2);
    expect([...up.data.subarray(0, 8)]).toEqual([0, 0.25, 0.75, 1.25, 1.75, 2.25, 2.75, 3]);
    expect([...up.data.subarray(8)]).toEqual([...up.data.subarray(0, 8)]);
  });
});

describe('colourfulness', () => {
  test('grey and faintly tinted pages are under the threshold, colour pages over it', () => {
    expect(colourfulness(greyPage(80, 100, 1))).toBe(0);
    const tinted = greyPage(80, 100, 1);
    const paper = [1, 0.975, 0.93];
    for (let i = 0; i < tinted.data.length; i++) tinted.data[i] *= paper[i % 3];
    expect(colourfulness(tinted)).toBeGreaterThan(2);
    expect(colourfulness(tinted)).toBeLessThan(COLOUR_THRESHOLD / 2);
    expect(colourfulness(syntheticPage(80, 100, 1))).toBeGreaterThan(COLOUR_THRESHOLD + 10);
  });
});

describe('auto-hint sampling', () => {
  test('about the asked density, only inside the page, no greyish pixels with ignoreGrey', () => {
    const colour = syntheticPage(200, 300, 4);
    const content = { width: 200, height: 250 };
    const counts = Array.from({ length: 20 }, (_, s) => autoHintMask(colour, content, seededRng(s)).reduce((a, b) => a + b, 0));
    const mean = counts.reduce((a, b) => a + b) / counts.length;
    expect(mean / (200 * 250)).toBeGreaterThan(AUTO_HINT_DENSITY * 0.6);
    expect(mean / (200 * 250)).toBeLessThan(AUTO_HINT_DENSITY * 1.4);
    const mask = autoHintMask(colour, content, seededRng(1), { density: 0.05, ignoreGrey: true });
    for (let i = 0; i < mask.length; i++) {
      if (!mask[i]) continue;
      expect(Math.floor(i / 200)).toBeLessThan(250);
      expect(isGreyish(colour.data[3 * i], colour.data[3 * i + 1], colour.data[3 * i + 2])).toBe(false);
    }
  });
});

describe('hint files', () => {
  test('a batch file: per-page hints by name or unique base name, palette colours by name', () => {
    const file = parseHintsFile(
      JSON.stringify({
        palette: { hair: '#ff0000' },
        pages: { '001.png': { width: 10, height: 20, hints: [{ x: 1, y: 2, color: 'hair' }] }, 'ch2/002.png': { width: 10, height: 20, hints: [{ x: 3, y: 4, color: '#00ff00' }] } },
      }),
      'batch.json',
    );
    expect(hintList(hintsForPage(file, 'chapter/001.png')!)).toEqual([{ x: 1, y: 2, rgb: [1, 0, 0] }]);
    expect([...hintsForPage(file, 'ch2/002.png')!.rgb]).toEqual([0, 1, 0]);
    expect(hintsForPage(file, '003.png')).toBeNull();
    expect(unusedPageNames(file, ['001.png'])).toEqual(['ch2/002.png']);
    expect(() => parseHintsFile('{"pages": {"a.png": {"width": 5, "height": 5, "hints": [{"x": 1, "y": 1, "color": "skin"}]}}}', 'b.json')).toThrow(
      /b\.json: page "a\.png": hint 0: "skin" is not a colour/,
    );
    expect(() => parseHintsFile('{"palette": {"hair": "red"}, "pages": {}}', 'c.json')).toThrow(/c\.json: palette colour "hair"/);
  });
});

describe('the shipped model on examples/page.png', () => {
  // Issue 14's ink target, on the README's first example: the page's line pixels (luma < 64/255) keep a mean
  // brightness of at most 10/255 whatever the network paints (the auto blend takes the page for line art).
  test("keeps the page's ink black, with and without the example's hints: line pixels at mean brightness ≤ 10", async () => {
    const model = loadColorModel({ weights: { bytes: readFileSync(DEFAULT_MODEL_PATH), name: DEFAULT_MODEL_PATH } });
    try {
      const page = await readImage('examples/page.png');
      const file = parseHintsFile(readFileSync('examples/page-hints.json', 'utf8'), 'examples/page-hints.json');
      for (const hints of [null, hintsForPage(file, 'page.png')]) {
        const { image } = await colorizePage(model, page, { hints });
        const ink = inkBrightness(page, image);
        expect(ink.pixels).toBeGreaterThan(10_000);
        expect(ink.page).toBeLessThan(3);
        const seen = `line pixels${hints ? ' with hints' : ''}: page ${ink.page.toFixed(2)}, output ${ink.output.toFixed(2)}`;
        expect(ink.output, seen).toBeLessThanOrEqual(10);
        // The auto blend takes this page for line art (multiply): the output is never lighter than the page.
        expect(ink.output, seen).toBeLessThanOrEqual(ink.page + 1e-3);
      }
    } finally {
      model.dispose();
    }
  }, 240_000);
});
