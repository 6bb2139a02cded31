// Shape arithmetic shared by kernels and ops: broadcasting, axis normalisation, dimension collapsing.
export type Shape = readonly number[];

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function rowMajorStrides(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

export function checkShape(shape: Shape): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new Error(`Invalid shape [${shape.join(', ')}]: dimensions must be integers ≥ 0.`);
  }
}

/** NumPy/PyTorch broadcasting: align right, sizes equal or 1. */
export function broadcastShapes(...shapes: Shape[]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const d = rank - s.length + i;
      if (s[i] === out[d] || s[i] === 1) continue;
      if (out[d] !== 1) {
        throw new Error(`Shapes ${shapes.map((x) => `[${x.join(', ')}]`).join(' and ')} cannot be broadcast together (dim ${d}: ${out[d]} vs ${s[i]}).`);
      }
      out[d] = s[i];
    }
  }
  return out;
}

/** Strides that read `shape`/`strides` as if it had shape `target` (broadcast dims get stride 0). */
export function broadcastStrides(shape: Shape, strides: readonly number[], target: Shape): number[] {
  const lead = target.length - shape.length;
  return target.map((n, d) => (d < lead || shape[d - lead] !== n ? 0 : strides[d - lead]));
}

/** Normalises axes (negative counts from the end) and checks them; undefined means all axes. */
export function normalizeAxes(axes: number | readonly number[] | undefined, rank: number): number[] {
  if (axes === undefined) return [...Array(rank).keys()];
  const list = typeof axes === 'number' ? [axes] : [...axes];
  const out = list.map((a) => {
    const n = a < 0 ? a + rank : a;
    if (!Number.isInteger(n) || n < 0 || n >= rank) throw new Error(`Axis ${a} is out of range for a tensor of rank ${rank}.`);
    return n;
  });
  if (new Set(out).size !== out.length) throw new Error(`Axes [${list.join(', ')}] repeat an axis.`);
  return out.sort((a, b) => a - b);
}

/**
 * Drops size-1 dims and merges neighbours that are contiguous in every operand, so a plain same-shape op
 * becomes rank 1. `strides[k]` are operand k's strides over `shape`.
 */
export function collapseDims(shape: Shape, strides: readonly (readonly number[])[]): { shape: number[]; strides: number[][] } {
  const dims: number[] = [];
  const out: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const last = dims.length - 1;
    if (last >= 0 && strides.every((s, k) => out[k][last] === s[d] * shape[d])) {
      dims[last] *= shape[d];
      strides.forEach((s, k) => (out[k][last] = s[d]));
    } else {
      dims.push(shape[d]);
      strides.forEach((s, k) => out[k].push(s[d]));
    }
  }
  return { shape: dims, strides: out };
}
