// The layer map, enforced: every import in src/ and web/ points down the map (or within its own folder), and no
// module imports itself through others. The map is written here and in docs/ARCHITECTURE.md, and this test
// checks that the two agree.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { expect, test } from 'vitest';

/** Lowest first; folders on one level (data/io are not: io reads files into data's planes) never import each other. */
const LAYERS: string[][] = [['engine'], ['kernels'], ['autograd'], ['ops'], ['nets'], ['data'], ['io'], ['colorize', 'train'], ['eval'], ['cli', 'web']];
const MAP_LINE = LAYERS.map((level) => level.join(', ')).join(' → ');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : /\.ts$/.test(name) && !/\.d\.ts$/.test(name) ? [path] : [];
  });
}

/** The folder of the map a file belongs to: src/<folder>/… or web/. */
const folderOf = (file: string) => (file.startsWith('web/') ? 'web' : file.split('/')[1]);
const levelOf = (folder: string) => LAYERS.findIndex((level) => level.includes(folder));

interface Edge {
  from: string;
  to: string;
  typeOnly: boolean;
}

function imports(): Edge[] {
  const edges: Edge[] = [];
  for (const file of [...sources('src'), ...sources('web')]) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^(?:import|export)(\s+type)?[^'"]*?from\s+'(\.[^']+)'/gm)) {
      const to = normalize(join(dirname(file), m[2])).replace(/\.js$/, '.ts');
      if (!to.startsWith('src/') && !to.startsWith('web/')) continue; // shaders/*.wgsl
      edges.push({ from: file, to, typeOnly: Boolean(m[1]) });
    }
  }
  return edges;
}

test('docs/ARCHITECTURE.md states the same layer map', () => {
  expect(readFileSync('docs/ARCHITECTURE.md', 'utf8')).toContain(MAP_LINE);
});

test('every import points down the layer map or stays in its folder', () => {
  const edges = imports();
  expect(edges.length).toBeGreaterThan(100);
  const upward = edges.filter(({ from, to }) => {
    const [a, b] = [folderOf(from), folderOf(to)];
    if (a === b) return false;
    expect(levelOf(a), `${from}: folder ${a} is not on the map`).toBeGreaterThanOrEqual(0);
    expect(levelOf(b), `${to}: folder ${b} is not on the map`).toBeGreaterThanOrEqual(0);
    return levelOf(b) >= levelOf(a);
  });
  expect(upward.map(({ from, to }) => `${from} → ${to}`)).toEqual([]);
});

test('no module imports itself through others (type-only imports aside)', () => {
  const graph = new Map<string, string[]>();
  for (const { from, to, typeOnly } of imports()) if (!typeOnly) graph.set(from, [...(graph.get(from) ?? []), to]);
  // Tarjan's strongly connected components: any component of more than one file is a cycle.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) cycles.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  expect(cycles).toEqual([]);
});
