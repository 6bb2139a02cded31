// The working size of a page, shared by the pipeline and the browser app's UI (which must not bundle the engine:
// this file imports types alone).
import type { Size } from '../data/resize.js';
import type { Architecture } from './model.js';

/**
 * The short side resize_pad scales to. v2's reference code scales landscape pages to 1.5 × size on their short
 * side (864 for 576: a spread's height matches a portrait page's); v1 uses size either way.
 */
export function workingShortSide(arch: Architecture, page: Size, size: number): number {
  return arch === 'v2' && page.width > page.height ? Math.round(size * 1.5) : size;
}
