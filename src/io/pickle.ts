// A minimal, non-executing pickle reader: the opcodes that torch.save's files use (protocol 2, plus the binary
// opcodes of protocols 3-5), containers as plain data, and globals only from a caller-given allow-list whose
// handlers build values instead of running code. Anything else is refused with the opcode or global named.

export class PyTuple {
  constructor(readonly items: PyValue[]) {}
}

/** dict or collections.OrderedDict; `attributes` holds what BUILD set (a state dict's `_metadata`). */
export class PyDict {
  readonly items = new Map<PyValue, PyValue>();
  readonly attributes = new Map<string, PyValue>();
  constructor(readonly type: 'dict' | 'collections.OrderedDict' = 'dict') {}
}

/** A global named by the pickle (`module.name`), as a value: a storage type, a dtype, a callable. */
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
    readonly handler: GlobalHandler,
  ) {}
  get qualifiedName(): string {
    return `${this.module}.${this.name}`;
  }
}

/** Values a handler builds (tensors, storages). */
export interface PyObject {
  readonly pyType: string;
}

export type PyValue = null | boolean | number | bigint | string | Uint8Array | PyValue[] | PyTuple | PyDict | PyGlobal | PyObject;

/** What an allowed global may do: be a plain value, and optionally be called (REDUCE / NEWOBJ). */
export interface GlobalHandler {
  call?(args: PyValue[]): PyValue;
}

export interface UnpickleOptions {
  /** Allowed globals by `module.name`; every other global is refused. */
  globals: ReadonlyMap<string, GlobalHandler>;
  /** Resolves BINPERSID ids (torch's storages). Without it, persistent ids are refused. */
  persistentLoad?(pid: PyValue): PyValue;
}

export class PickleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PickleError';
  }
}

const REFUSE = 'refusing to load: this is not a plain state dict';

/** Opcode names for error messages (every opcode of protocols 0-5). */
const OPCODE_NAMES: Record<number, string> = {
  0x28: 'MARK', 0x2e: 'STOP', 0x30: 'POP', 0x31: 'POP_MARK', 0x32: 'DUP', 0x46: 'FLOAT', 0x49: 'INT', 0x4a: 'BININT',
  0x4b: 'BININT1', 0x4c: 'LONG', 0x4d: 'BININT2', 0x4e: 'NONE', 0x50: 'PERSID', 0x51: 'BINPERSID', 0x52: 'REDUCE',
  0x53: 'STRING', 0x54: 'BINSTRING', 0x55: 'SHORT_BINSTRING', 0x56: 'UNICODE', 0x58: 'BINUNICODE', 0x61: 'APPEND',
  0x62: 'BUILD', 0x63: 'GLOBAL', 0x64: 'DICT', 0x7d: 'EMPTY_DICT', 0x65: 'APPENDS', 0x67: 'GET', 0x68: 'BINGET',
  0x69: 'INST', 0x6a: 'LONG_BINGET', 0x6c: 'LIST', 0x5d: 'EMPTY_LIST', 0x6f: 'OBJ', 0x70: 'PUT', 0x71: 'BINPUT',
  0x72: 'LONG_BINPUT', 0x73: 'SETITEM', 0x74: 'TUPLE', 0x29: 'EMPTY_TUPLE', 0x75: 'SETITEMS', 0x47: 'BINFLOAT',
  0x80: 'PROTO', 0x81: 'NEWOBJ', 0x82: 'EXT1', 0x83: 'EXT2', 0x84: 'EXT4', 0x85: 'TUPLE1', 0x86: 'TUPLE2',
  0x87: 'TUPLE3', 0x88: 'NEWTRUE', 0x89: 'NEWFALSE', 0x8a: 'LONG1', 0x8b: 'LONG4', 0x42: 'BINBYTES',
  0x43: 'SHORT_BINBYTES', 0x8c: 'SHORT_BINUNICODE', 0x8d: 'BINUNICODE8', 0x8e: 'BINBYTES8', 0x8f: 'EMPTY_SET',
  0x90: 'ADDITEMS', 0x91: 'FROZENSET', 0x92: 'NEWOBJ_EX', 0x93: 'STACK_GLOBAL', 0x94: 'MEMOIZE', 0x95: 'FRAME',
  0x96: 'BYTEARRAY8', 0x97: 'NEXT_BUFFER', 0x98: 'READONLY_BUFFER',
};

const utf8 = new TextDecoder('utf-8', { fatal: true });
const latin1 = new TextDecoder('latin1');

/** Python's name for a value, for error messages. */
export function pyTypeName(v: PyValue): string {
  if (v === null) return 'None';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number' || typeof v === 'bigint') return 'number';
  if (typeof v === 'string') return 'str';
  if (v instanceof Uint8Array) return 'bytes';
  if (Array.isArray(v)) return 'list';
  if (v instanceof PyTuple) return 'tuple';
  if (v instanceof PyDict) return v.type;
  if (v instanceof PyGlobal) return v.qualifiedName;
  return v.pyType;
}

/**
 * Reads one pickle starting at `start` (files may hold several in a row) and returns its value and the offset
 * just past its STOP opcode.
 */
export function unpickle(bytes: Uint8Array, options: UnpickleOptions, start = 0): { value: PyValue; end: number } {
  const data = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = start;
  let opAt = start;
  let opName = '';
  // MARK saves the current stack and starts a fresh one; the opcodes that pop to a mark take that whole stack.
  let stack: PyValue[] = [];
  const marks: PyValue[][] = [];
  const memo = new Map<number, PyValue>();

  const fail = (message: string): never => {
    throw new PickleError(`${message} (pickle opcode ${opName} at byte ${opAt})`);
  };
  const need = (n: number) => {
    if (pos + n > bytes.length) fail(`truncated pickle: ${n} more bytes needed, the data ends at byte ${bytes.length}`);
  };
  const u8 = () => (need(1), bytes[pos++]);
  const u16 = () => (need(2), (pos += 2), data.getUint16(pos - 2, true));
  const u32 = () => (need(4), (pos += 4), data.getUint32(pos - 4, true));
  const u64 = () => {
    need(8);
    const v = data.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(bytes.length)) fail(`length ${v} exceeds the data`);
    return Number(v);
  };
  const take = (n: number) => (need(n), (pos += n), bytes.subarray(pos - n, pos));
  const line = () => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) fail('truncated pickle: unterminated text argument');
    const value = latin1.decode(bytes.subarray(pos, end));
    pos = end + 1;
    return value;
  };
  const text = (n: number) => {
    try {
      return utf8.decode(take(n));
    } catch {
      return fail('string is not UTF-8');
    }
  };
  const pop = (): PyValue => (stack.length ? stack.pop()! : fail('stack underflow (corrupt pickle)'));
  const top = (): PyValue => (stack.length ? stack[stack.length - 1] : fail('stack underflow (corrupt pickle)'));
  const popMark = (): PyValue[] => {
    const items = stack;
    if (!marks.length) fail('no MARK to pop to (corrupt pickle)');
    stack = marks.pop()!;
    return items;
  };
  const push = (v: PyValue) => void stack.push(v);
  const memoGet = (i: number) => {
    if (!memo.has(i)) fail(`memo slot ${i} is empty (corrupt pickle)`);
    return memo.get(i)!;
  };
  const memoPut = (i: number) => void memo.set(i, top());
  const global = (module: string, name: string): PyGlobal => {
    const qualified = `${module}.${name}`;
    const handler = options.globals.get(qualified);
    if (!handler) fail(`${REFUSE}: it names the Python global ${qualified}, which is not on the allow-list of tensors, storages and plain containers`);
    return new PyGlobal(module, name, handler!);
  };
  const call = (callable: PyValue, args: PyValue): PyValue => {
    if (!(callable instanceof PyGlobal) || !callable.handler.call) return fail(`${REFUSE}: it calls a ${pyTypeName(callable)}, which is not callable here`);
    if (!(args instanceof PyTuple)) return fail(`arguments are a ${pyTypeName(args)}, not a tuple (corrupt pickle)`);
    try {
      return callable.handler.call(args.items);
    } catch (e) {
      return fail(`${callable.qualifiedName}: ${(e as Error).message}`);
    }
  };
  const dictOf = (v: PyValue, what: string): PyDict => (v instanceof PyDict ? v : fail(`${what} on a ${pyTypeName(v)}, not a dict`));
  const listOf = (v: PyValue, what: string): PyValue[] => (Array.isArray(v) ? v : fail(`${what} on a ${pyTypeName(v)}, not a list`));
  const setItems = (dict: PyDict, kv: PyValue[]) => {
    if (kv.length % 2) fail('odd number of items for a dict');
    for (let i = 0; i < kv.length; i += 2) dict.items.set(kv[i], kv[i + 1]);
  };

  for (;;) {
    opAt = pos;
    if (pos >= bytes.length) throw new PickleError(`truncated pickle: the data ends at byte ${pos}, before the STOP opcode`);
    const op = bytes[pos++];
    opName = OPCODE_NAMES[op] ?? `0x${op.toString(16).padStart(2, '0')}`;
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) fail('pickle protocol newer than 5');
        break;
      case 0x95: // FRAME: a framing hint only
        u64();
        break;
      case 0x2e: // STOP
        if (stack.length !== 1 || marks.length) fail('the pickle ends with a malformed stack');
        return { value: pop(), end: pos };
      case 0x28: // MARK
        marks.push(stack);
        stack = [];
        break;
      case 0x30: // POP
        if (stack.length) stack.pop();
        else popMark();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        push(top());
        break;
      case 0x4e: // NONE
        push(null);
        break;
      case 0x88: // NEWTRUE
        push(true);
        break;
      case 0x89: // NEWFALSE
        push(false);
        break;
      case 0x4a: // BININT
        need(4);
        push(data.getInt32(pos, true));
        pos += 4;
        break;
      case 0x4b: // BININT1
        push(u8());
        break;
      case 0x4d: // BININT2
        push(u16());
        break;
      case 0x8a: // LONG1
      case 0x8b: {
        // LONG4: little-endian two's complement of n bytes
        const n = op === 0x8a ? u8() : u32();
        // Built byte by byte, a number of n bytes costs n² work: a 200 KB one hung the reader. No state dict
        // holds a number longer than LONG1's 255 bytes.
        if (n > 255) fail(`a number of ${n} bytes; no state dict holds one (corrupt or crafted pickle)`);
        const raw = take(n);
        let v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(raw[i]);
        if (n && raw[n - 1] & 0x80) v -= 1n << BigInt(8 * n);
        push(v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
        break;
      }
      case 0x47: // BINFLOAT: big-endian float64
        need(8);
        push(data.getFloat64(pos, false));
        pos += 8;
        break;
      case 0x58: // BINUNICODE
        push(text(u32()));
        break;
      case 0x8c: // SHORT_BINUNICODE
        push(text(u8()));
        break;
      case 0x8d: // BINUNICODE8
        push(text(u64()));
        break;
      case 0x42: // BINBYTES
        push(take(u32()).slice());
        break;
      case 0x43: // SHORT_BINBYTES
        push(take(u8()).slice());
        break;
      case 0x8e: // BINBYTES8
        push(take(u64()).slice());
        break;
      case 0x7d: // EMPTY_DICT
        push(new PyDict());
        break;
      case 0x5d: // EMPTY_LIST
        push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        push(new PyTuple([]));
        break;
      case 0x74: // TUPLE
        push(new PyTuple(popMark()));
        break;
      case 0x85: // TUPLE1
      case 0x86: // TUPLE2
      case 0x87: {
        // TUPLE3
        const items = [pop()];
        for (let n = op - 0x85; n > 0; n--) items.unshift(pop());
        push(new PyTuple(items));
        break;
      }
      case 0x6c: // LIST
        push(popMark());
        break;
      case 0x64: {
        // DICT
        const dict = new PyDict();
        setItems(dict, popMark());
        push(dict);
        break;
      }
      case 0x73: {
        // SETITEM
        const value = pop();
        const key = pop();
        dictOf(top(), 'SETITEM').items.set(key, value);
        break;
      }
      case 0x75: {
        // SETITEMS
        const kv = popMark();
        setItems(dictOf(top(), 'SETITEMS'), kv);
        break;
      }
      case 0x61: {
        // APPEND
        const value = pop();
        listOf(top(), 'APPEND').push(value);
        break;
      }
      case 0x65: {
        // APPENDS
        const values = popMark();
        // One at a time: spreading a list of a million items overflows the call stack.
        const list = listOf(top(), 'APPENDS');
        for (const v of values) list.push(v);
        break;
      }
      case 0x71: // BINPUT
        memoPut(u8());
        break;
      case 0x72: // LONG_BINPUT
        memoPut(u32());
        break;
      case 0x94: // MEMOIZE
        memoPut(memo.size);
        break;
      case 0x68: // BINGET
        push(memoGet(u8()));
        break;
      case 0x6a: // LONG_BINGET
        push(memoGet(u32()));
        break;
      case 0x63: {
        // GLOBAL: "module\nname\n"
        const module = line();
        push(global(module, line()));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('global names are not strings');
        push(global(module as string, name as string));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        push(call(pop(), args));
        break;
      }
      case 0x81: {
        // NEWOBJ: cls.__new__(cls, *args)
        const args = pop();
        push(call(pop(), args));
        break;
      }
      case 0x62: {
        // BUILD
        const state = pop();
        const target = top();
        if (target instanceof PyDict && state instanceof PyDict) {
          for (const [k, v] of state.items) {
            if (typeof k !== 'string') fail('attribute names are not strings');
            target.attributes.set(k as string, v);
          }
        } else if (!(target instanceof PyDict && state === null)) {
          fail(`${REFUSE}: it sets the state of a ${pyTypeName(target)}`);
        }
        break;
      }
      case 0x51: {
        // BINPERSID
        const pid = pop();
        if (!options.persistentLoad) fail(`${REFUSE}: it refers to external objects (persistent ids)`);
        try {
          push(options.persistentLoad!(pid));
        } catch (e) {
          fail((e as Error).message);
        }
        break;
      }
      default:
        fail(
          op in OPCODE_NAMES
            ? `${REFUSE}: the opcode ${opName} (0x${op.toString(16)}) is not one that torch.save writes`
            : `unknown pickle opcode 0x${op.toString(16).padStart(2, '0')}: the file is corrupt or not a pickle`,
        );
    }
  }
}
