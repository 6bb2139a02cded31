// A value read from a file (JSON of a hint file, a config, a safetensors header), as an error message shows it:
// JSON, cut short. JSON.stringify itself is no good there: a crafted file nests arrays a hundred thousand deep
// (JSON.parse reads that, JSON.stringify overflows the call stack and the message naming the file is lost) or
// holds a string of a gigabyte.

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
