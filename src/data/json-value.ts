// Values parsed from JSON files (a hint file, a config, a safetensors header), handled without trusting their
// shape: JSON.parse reads arrays nested a hundred thousand deep, but JSON.stringify, structuredClone and any
// recursive walk overflow the call stack on them ("Maximum call stack size exceeded", naming no file), and a
// string may be a gigabyte. Messages quote values with quoteValue; readers refuse nesting no valid file has.

/** `value` as JSON of at most `max` characters (nesting beyond two levels and long lists elided); never throws. */
export function quoteValue(value: unknown, max = 60): string {
  const text = (v: unknown, depth: number): string => {
    if (Array.isArray(v)) {
      if (depth >= 2) return v.length ? '[…]' : '[]';
      return `[${v.slice(0, 4).map((e) => text(e, depth + 1)).join(',')}${v.length > 4 ? ',…' : ''}]`;
    }
    if (typeof v === 'object' && v !== null) {
      const keys = Object.keys(v);
      if (depth >= 2) return keys.length ? '{…}' : '{}';
      const shown = keys.slice(0, 4).map((k) => `${text(k, depth + 1)}:${text((v as Record<string, unknown>)[k], depth + 1)}`);
      return `{${shown.join(',')}${keys.length > 4 ? ',…' : ''}}`;
    }
    if (typeof v === 'string') return JSON.stringify(v.length > max ? v.slice(0, max) : v);
    return typeof v === 'bigint' ? String(v) : (JSON.stringify(v) ?? String(v));
  };
  const out = text(value, 0);
  return out.length > max ? `${out.slice(0, max - 1)}…` : out;
}

/** Whether arrays and objects in `value` nest more than `levels` deep (a bare value is 0, `[1]` is 1); no recursion. */
export function nestedDeeperThan(value: unknown, levels: number): boolean {
  let layer: unknown[] = [value];
  for (let depth = 0; layer.length; depth++) {
    const next: unknown[] = [];
    for (const v of layer) {
      if (typeof v !== 'object' || v === null) continue;
      for (const child of Array.isArray(v) ? v : Object.values(v)) next.push(child); // no spread: a list may hold millions
    }
    if (next.length === 0) return false;
    if (depth + 1 > levels) return true;
    layer = next;
  }
  return false;
}
