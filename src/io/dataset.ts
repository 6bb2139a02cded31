// A prepared training set on disk (npm run prepare-data): its manifest and a reader for the loader.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MANIFEST_VERSION, type Manifest } from '../data/dataset.js';
import type { Plane } from '../data/plane.js';
import { readImage } from './image.js';

export async function openTrainingSet(dir: string): Promise<{ manifest: Manifest; read: (path: string) => Promise<Plane> }> {
  const file = join(dir, 'manifest.json');
  let manifest: Manifest;
  try {
    manifest = JSON.parse(await readFile(file, 'utf8')) as Manifest;
  } catch (e) {
    throw new Error(`${file}: cannot read the training set's manifest (${(e as Error).message}); build the set with npm run prepare-data.`);
  }
  if (manifest.version !== MANIFEST_VERSION) throw new Error(`${file}: manifest version ${manifest.version}, this code reads version ${MANIFEST_VERSION}; rebuild the set.`);
  return { manifest, read: (path) => readImage(join(dir, path)) };
}
