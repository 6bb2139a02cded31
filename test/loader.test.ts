import { describe, expect, test } from 'vitest';
import { itemFiles, type Manifest } from '../src/data/dataset.js';
import { TrainingLoader } from '../src/data/loader.js';
import { createPlane, type Plane } from '../src/data/plane.js';

// Planes whose values encode where they came from: colour R = x/256, G = y/256; the sketch and the field are
// other functions of (x, y) and the mult, so every crop can be traced back to its source window.
const sketchValue = (x: number, y: number, m: number) => ((3 * x + 5 * y) % 11) / 16 + m / 64;
const fieldValue = (x: number, y: number, m: number) => ((7 * x + y) % 13) / 16 + m / 128;

function makeSet(count: number, crop: number) {
  const mults = [1, 2, 3];
  const files = new Map<string, Plane>();
  const items = Array.from({ length: count }, (_, k) => {
    const [w, h] = [crop + (k % 3) * 7, crop + (k % 2) * 11];
    const f = itemFiles(`item${k}`, mults);
    const plane = (channels: number, v: (x: number, y: number) => number[]) => {
      const data = new Float32Array(w * h * channels);
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.set(v(x, y), (y * w + x) * channels);
      return createPlane(w, h, channels, data);
    };
    files.set(f.colour, plane(3, (x, y) => [x / 256, y / 256, k / 256]));
    for (const m of mults) {
      // Grey files decode as RGB with equal channels; the loader takes one.
      files.set(f.sketches[m], plane(3, (x, y) => new Array(3).fill(sketchValue(x, y, m))));
      files.set(f.fields[m], plane(3, (x, y) => new Array(3).fill(fieldValue(x, y, m))));
    }
    return { ...f, source: `p${k}.png`, width: w, height: h };
  });
  const manifest: Manifest = { version: 1, size: crop, mults, preset: 'code', items, failed: [] };
  const stats = { reads: 0 };
  const read = async (path: string) => {
    stats.reads++;
    await new Promise((r) => setTimeout(r, 1));
    const p = files.get(path);
    if (!p) throw new Error(`no file ${path}`);
    return p;
  };
  return { manifest, read, stats };
}

async function collect(loader: TrainingLoader, epoch: number) {
  const out = [];
  for await (const b of loader.epoch(epoch)) out.push(b);
  return out;
}

describe('training loader', () => {
  test('crops: the same window of colour, sketch and distance field; flips; targets in [−1, 1]', async () => {
    const S = 24;
    const { manifest, read } = makeSet(10, S);
    const loader = new TrainingLoader({ manifest, read, batchSize: 4, seed: 3, hints: 'none' });
    expect(loader.batchesPerEpoch).toBe(2);
    const batches = await collect(loader, 0);
    expect(batches).toHaveLength(2);
    const n = S * S;
    let flips = 0;
    for (const b of batches) {
      expect(b.input.length).toBe(4 * 6 * n);
      expect(b.target.length).toBe(4 * 3 * n);
      for (let k = 0; k < 4; k++) {
        const { mult, flipped } = b.samples[k];
        flips += flipped ? 1 : 0;
        const T = (c: number, i: number) => b.target[(3 * k + c) * n + i];
        const I = (c: number, i: number) => b.input[(6 * k + c) * n + i];
        let bad = 0;
        for (let j = 0; j < S; j++) {
          for (let i = 0; i < S; i++) {
            const p = j * S + i;
            const x = Math.round(((T(0, p) + 1) / 2) * 256);
            const y = Math.round(((T(1, p) + 1) / 2) * 256);
            if (i > 0) {
              // Neighbours along a row step by +1 in the source, or −1 when flipped.
              const xPrev = Math.round(((T(0, p - 1) + 1) / 2) * 256);
              if (x - xPrev !== (flipped ? -1 : 1)) bad++;
            }
            if (Math.abs(I(0, p) - sketchValue(x, y, mult)) > 1e-6) bad++;
            if (Math.abs(I(1, p) - fieldValue(x, y, mult)) > 1e-6) bad++;
            for (let c = 2; c < 6; c++) if (I(c, p) !== 0) bad++; // hints off
          }
        }
        expect(bad).toBe(0);
      }
    }
    expect(flips).toBeGreaterThan(0);
    expect(flips).toBeLessThan(8);
  });

  test('reproducible per (seed, epoch), shuffled differently per epoch and seed', async () => {
    const { manifest, read } = makeSet(12, 16);
    const a = await collect(new TrainingLoader({ manifest, read, batchSize: 3, seed: 7 }), 2);
    const b = await collect(new TrainingLoader({ manifest, read, batchSize: 3, seed: 7 }), 2);
    expect(a.map((x) => x.samples)).toEqual(b.map((x) => x.samples));
    expect(a.every((x, i) => x.input.every((v, j) => v === b[i].input[j]))).toBe(true);
    const other = await collect(new TrainingLoader({ manifest, read, batchSize: 3, seed: 7 }), 3);
    const seed8 = await collect(new TrainingLoader({ manifest, read, batchSize: 3, seed: 8 }), 2);
    const ids = (bs: typeof a) => bs.flatMap((x) => x.samples.map((s) => s.id)).join();
    expect(ids(other)).not.toBe(ids(a));
    expect(ids(seed8)).not.toBe(ids(a));
    // Every item once per epoch.
    expect(new Set(ids(a).split(',')).size).toBe(12);
  });

  test('hints are sampled on the crop; empty and sparse modes appear', async () => {
    const { manifest, read } = makeSet(8, 16);
    const modes = new Set<string>();
    const loader = new TrainingLoader({ manifest, read, batchSize: 4, seed: 1 });
    for (let e = 0; e < 6; e++) {
      for (const b of await collect(loader, e)) {
        const n = 16 * 16;
        b.samples.forEach((s, k) => {
          modes.add(s.hints);
          const mask = b.input.subarray((6 * k + 5) * n, (6 * k + 6) * n);
          if (s.hints === 'empty') expect(mask.every((v) => v === 0)).toBe(true);
          if (s.hints === 'full') expect(mask.every((v) => v === 1)).toBe(true);
          // Hint colour = target colour where the mask is set.
          for (let i = 0; i < n; i++) if (mask[i]) expect(b.input[(6 * k + 2) * n + i]).toBeCloseTo(b.target[3 * k * n + i], 6);
        });
      }
    }
    expect(modes.has('empty') && modes.has('sparse')).toBe(true);
  });

  test('streaming: only the batch being built and one prefetched are read ahead', async () => {
    const { manifest, read, stats } = makeSet(40, 8);
    const loader = new TrainingLoader({ manifest, read, batchSize: 4, seed: 2 });
    const it = loader.epoch(0);
    await it.next();
    await new Promise((r) => setTimeout(r, 20));
    expect(stats.reads).toBeLessThanOrEqual(2 * 4 * 3);
    await it.return(undefined);
  });

  test('errors', async () => {
    const { manifest, read } = makeSet(4, 16);
    expect(() => new TrainingLoader({ manifest, read, crop: 64 })).toThrow(/smaller than the 64×64 crop/);
    expect(() => new TrainingLoader({ manifest: { ...manifest, items: [] }, read })).toThrow(/no items/);
    const broken = new TrainingLoader({ manifest, read: async () => { throw new Error('disk on fire'); }, batchSize: 2 });
    await expect(collect(broken, 0)).rejects.toThrow(/disk on fire/);
  });
});
