import { describe, expect, test } from 'vitest';
import { PickleError, PyDict, PyTuple, unpickle, type PyValue } from '../src/io/pickle.js';

const hex = (s: string) => Uint8Array.from(s.match(/../g)!, (b) => parseInt(b, 16));
const noGlobals = { globals: new Map() };

/** Python values as plain JSON-like data for comparisons: dicts → objects, tuples → {tuple: [...]}. */
function plain(v: PyValue): unknown {
  if (v instanceof PyDict) return Object.fromEntries([...v.items].map(([k, x]) => [String(k), plain(x)]));
  if (v instanceof PyTuple) return { tuple: v.items.map(plain) };
  if (Array.isArray(v)) return v.map(plain);
  return v;
}

describe('unpickle', () => {
  test('protocol 2 (as torch.save writes): integers of every width, floats, constants, text, tuples, nesting', () => {
    // pickle.dumps({...}, protocol=2) from CPython 3.11; ints beyond ±(2^53 − 1) come back as bigint
    const bytes = hex(
      '80027d7100285804000000696e747371015d7102284b004b014affffffff4bff4d00014dffff4a000001004a7fffffff4affffff7f4a000000808a0500000080008a07000000000000208a07ffffffffffffdf8a090000000000000000408a090000000000000000c0655806000000666c6f61747371035d710428473fe000000000000047fe37e43c8800759c477ff0000000000000655806000000636f6e73747371055d7106284e88896558040000007465787471075809000000c3a9e282acf09f9880710858060000007475706c657371095d710a28294b0185710b4b014b0286710c4b014b024b0387710d284b014b024b034b0474710e6558060000006e6573746564710f7d71104b015d71115d71126173752e',
    );
    const { value, end } = unpickle(bytes, noGlobals);
    expect(end).toBe(bytes.length);
    expect(plain(value)).toEqual({
      ints: [0, 1, -1, 255, 256, 65535, 65536, -129, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, 2n ** 53n, -(2n ** 53n) - 1n, 2n ** 70n, -(2n ** 70n)],
      floats: [0.5, -1e300, Infinity],
      consts: [null, true, false],
      text: 'é€😀',
      tuples: [{ tuple: [] }, { tuple: [1] }, { tuple: [1, 2] }, { tuple: [1, 2, 3] }, { tuple: [1, 2, 3, 4] }],
      nested: { 1: [[]] },
    });
  });

  test('protocol 4: FRAME, MEMOIZE, SHORT_BINUNICODE, SHORT_BINBYTES, STACK_GLOBAL of an allowed global', () => {
    const bytes = hex(
      '8004954a000000000000007d94288c0474657874948c05c3a9e282ac948c01629443027879948c026f64948c0b636f6c6c656374696f6e73948c0b4f726465726564446963749493942952948c0161944b0173752e',
    );
    const globals = new Map([['collections.OrderedDict', { call: () => new PyDict('collections.OrderedDict') }]]);
    const { value } = unpickle(bytes, { globals });
    const dict = value as PyDict;
    expect(dict.items.get('text')).toBe('é€');
    expect([...(dict.items.get('b') as Uint8Array)]).toEqual([0x78, 0x79]);
    const od = dict.items.get('od') as PyDict;
    expect(od.type).toBe('collections.OrderedDict');
    expect(od.items.get('a')).toBe(1);
  });

  test('memo references return the same object', () => {
    // l = [1, 2]; pickle.dumps([l, l], protocol=2)
    const { value } = unpickle(hex('80025d7100285d7101284b014b02656801652e'), noGlobals);
    const [a, b] = value as PyValue[][];
    expect(a).toBe(b);
    expect(a).toEqual([1, 2]);
  });

  test('NaN survives BINFLOAT', () => {
    expect(unpickle(hex('8002477ff80000000000002e'), noGlobals).value).toBeNaN();
  });

  test('refuses globals that are not allowed, naming them', () => {
    // pickle.dumps({'f': os.system}, protocol=2): GLOBAL 'posix system'
    const bytes = hex('80027d7100580100000066710163706f7369780a73797374656d0a7102732e');
    expect(() => unpickle(bytes, noGlobals)).toThrow(/refusing to load: this is not a plain state dict: it names the Python global posix\.system.*\(pickle opcode GLOBAL at byte 13\)/);
  });

  test('refuses opcodes a state dict never uses, and unknown opcodes', () => {
    // pickle.dumps({'s': {1}}, protocol=4) uses EMPTY_SET
    expect(() => unpickle(hex('8004950e000000000000007d948c0173948f94284b0190732e'), noGlobals)).toThrow(/refusing to load.*opcode EMPTY_SET \(0x8f\)/);
    expect(() => unpickle(hex('8002ff'), noGlobals)).toThrow(/unknown pickle opcode 0xff/);
  });

  test('refuses persistent ids without a loader', () => {
    expect(() => unpickle(hex('80024b0151'), noGlobals)).toThrow(/persistent ids/);
  });

  test('every truncation of a valid pickle is a PickleError', () => {
    const bytes = hex('80027d7100285804000000696e747371015d7102284b008a090000000000000000c0655806000000666c6f61747371035d7104473fe000000000000061752e');
    expect(() => unpickle(bytes, noGlobals)).not.toThrow();
    for (let n = 0; n < bytes.length; n++) expect(() => unpickle(bytes.subarray(0, n), noGlobals), `cut at ${n}`).toThrow(PickleError);
  });

  test('malformed stacks are errors, not crashes', () => {
    expect(() => unpickle(hex('80022e'), noGlobals)).toThrow(/malformed stack/); // STOP on an empty stack
    expect(() => unpickle(hex('800274'), noGlobals)).toThrow(/no MARK/); // TUPLE without MARK
    expect(() => unpickle(hex('8002680a'), noGlobals)).toThrow(/memo slot 10 is empty/);
    expect(() => unpickle(hex('80024b014b014b0173'), noGlobals)).toThrow(/SETITEM on a number/);
  });

  test('reads consecutive pickles from an offset', () => {
    // pickle.dump(1001); pickle.dump(True) back to back
    const bytes = hex('80024de9032e8002882e');
    const first = unpickle(bytes, noGlobals);
    expect(first).toEqual({ value: 1001, end: 6 });
    expect(unpickle(bytes, noGlobals, first.end)).toEqual({ value: true, end: bytes.length });
  });
});
