// PyTorch checkpoint import without running anything from the file (REFERENCE §10). Two containers:
//  - zip (torch.save since 1.6): `<prefix>/data.pkl`, a protocol-2 pickle whose tensors are
//    `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, …)` over storages named by persistent id
//    `('storage', torch.FloatStorage, key, location, numel)`; raw little-endian bytes at `<prefix>/data/<key>`.
//  - legacy (before 1.6): consecutive pickles (magic number, protocol version, sys info, the object with
//    persistent ids `('storage', type, key, location, numel, view_metadata)`, the sorted storage keys), then each
//    storage as an 8-byte little-endian element count and its raw bytes.
// The pickle is read by src/io/pickle.ts with an allow-list of the globals a state dict uses; tensors are
// materialised row-major (views, offsets and strides resolved) once the storages are known.
import { assertLittleEndianHost, decodeElements, type StoredDType } from './dtypes.js';
import { PickleError, PyDict, PyGlobal, PyTuple, pyTypeName, unpickle, type GlobalHandler, type PyObject, type PyValue } from './pickle.js';
import { identify } from './sniff.js';
import { elementCount, shapeText, stripPrefix, type StoredTensor, type StoredTensors } from './stored-tensors.js';
import { readZipBytes, type ZipEntry, type ZipLimits } from './zip-format.js';

export class TorchCheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TorchCheckpointError';
  }
}

/** PyTorch element types by dtype name: size in bytes and the stored type this reader converts to, if any. */
const ELEMENT_TYPES: Record<string, { size: number; stored: StoredDType | null }> = {
  float32: { size: 4, stored: 'F32' },
  float16: { size: 2, stored: 'F16' },
  bfloat16: { size: 2, stored: 'BF16' },
  float64: { size: 8, stored: 'F64' },
  int64: { size: 8, stored: 'I64' },
  int32: { size: 4, stored: null },
  int16: { size: 2, stored: null },
  int8: { size: 1, stored: null },
  uint8: { size: 1, stored: null },
  bool: { size: 1, stored: null },
};

/** `torch.<X>Storage` → dtype name. UntypedStorage holds bytes; `_rebuild_tensor_v3` then says the dtype. */
const STORAGE_TYPES: Record<string, string> = {
  FloatStorage: 'float32',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  DoubleStorage: 'float64',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
  UntypedStorage: 'uint8',
};

/** Raw bytes of one storage; legacy files fill them in after the object pickle. */
interface StorageData {
  key: string;
  bytes?: Uint8Array;
}

/** A storage (or a legacy storage view) as the pickle refers to it. */
class StorageRef implements PyObject {
  readonly pyType = 'torch.Storage';
  constructor(
    readonly data: StorageData,
    readonly dtype: string,
    readonly byteOffset: number,
    readonly byteLength: number,
  ) {}
}

/** A tensor as the pickle describes it, materialised later. */
class TensorRef implements PyObject {
  readonly pyType = 'torch.Tensor';
  constructor(
    readonly storage: StorageRef,
    readonly dtype: string,
    readonly offset: number,
    readonly shape: number[],
    readonly stride: number[],
  ) {}
}

const isCount = (v: PyValue): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

function counts(v: PyValue, what: string): number[] {
  const items = v instanceof PyTuple ? v.items : Array.isArray(v) ? v : null;
  if (!items || !items.every(isCount)) throw new Error(`${what} is a ${pyTypeName(v)}, not a tuple of integers ≥ 0`);
  return items as number[];
}

function rebuildTensor(args: PyValue[], dtypeArg?: PyValue): TensorRef {
  const [storage, offset, size, stride] = args;
  if (!(storage instanceof StorageRef)) throw new Error(`the storage argument is a ${pyTypeName(storage)}`);
  if (!isCount(offset)) throw new Error(`the storage offset is ${String(offset)}`);
  let dtype = storage.dtype;
  if (dtypeArg !== undefined) {
    if (!(dtypeArg instanceof PyGlobal) || !(dtypeArg.name in ELEMENT_TYPES)) throw new Error(`the dtype argument is a ${pyTypeName(dtypeArg)}`);
    dtype = dtypeArg.name;
  }
  const shape = counts(size, 'the size');
  const strides = counts(stride, 'the stride');
  if (shape.length !== strides.length) throw new Error(`size ${shapeText(shape)} and stride ${shapeText(strides)} differ in rank`);
  return new TensorRef(storage, dtype, offset, shape, strides);
}

function tensorArgument(v: PyValue): TensorRef {
  if (!(v instanceof TensorRef)) throw new Error(`expected a tensor, got a ${pyTypeName(v)}`);
  return v;
}

const valueOnly: GlobalHandler = {};

/** Every global a plain state dict (or a checkpoint dict around one) pickles. */
const GLOBALS = new Map<string, GlobalHandler>([
  ['collections.OrderedDict', { call: () => new PyDict('collections.OrderedDict') }],
  ['torch._utils._rebuild_tensor_v2', { call: (args) => rebuildTensor(args) }],
  // (storage, offset, size, stride, requires_grad, hooks, dtype[, metadata]) over an UntypedStorage.
  ['torch._utils._rebuild_tensor_v3', { call: (args) => rebuildTensor(args, args[6]) }],
  ['torch._utils._rebuild_parameter', { call: (args) => tensorArgument(args[0]) }],
  ['torch._utils._rebuild_parameter_with_state', { call: (args) => tensorArgument(args[0]) }],
  [
    // (func, new_type, args, state): a Tensor or Parameter carrying Python attributes; the attributes are dropped.
    'torch._tensor._rebuild_from_type_v2',
    {
      call: ([func, type, args]) => {
        if (!(type instanceof PyGlobal) || !['torch.Tensor', 'torch.nn.parameter.Parameter'].includes(type.qualifiedName)) {
          throw new Error(`the tensor type is ${pyTypeName(type)}`);
        }
        if (!(func instanceof PyGlobal) || !func.handler.call || !(args instanceof PyTuple)) throw new Error('malformed arguments');
        return tensorArgument(func.handler.call(args.items));
      },
    },
  ],
  ['torch.Tensor', valueOnly],
  ['torch.nn.parameter.Parameter', valueOnly],
  ['torch.Size', { call: ([items]) => new PyTuple(counts(items ?? null, 'torch.Size')) }],
  ...Object.keys(STORAGE_TYPES).map((name): [string, GlobalHandler] => [`torch.${name}`, valueOnly]),
  ...Object.keys(ELEMENT_TYPES).map((name): [string, GlobalHandler] => [`torch.${name}`, valueOnly]),
]);

/** The parts of a persistent id both containers share: ('storage', storage_type, key, location, numel, …). */
function storageId(pid: PyValue, length: number): { dtype: string; key: string; numel: number; rest: PyValue[] } {
  if (!(pid instanceof PyTuple) || pid.items[0] !== 'storage') {
    const kind = pid instanceof PyTuple ? String(pid.items[0]) : pyTypeName(pid);
    throw new Error(`refusing to load: this is not a plain state dict (it refers to a persistent object of kind "${kind}", not a storage)`);
  }
  const [, type, key, , numel, ...rest] = pid.items;
  if (pid.items.length !== length) throw new Error(`a storage id has ${pid.items.length} fields; this container's have ${length}`);
  if (!(type instanceof PyGlobal) || type.module !== 'torch' || !(type.name in STORAGE_TYPES)) throw new Error(`storage type ${pyTypeName(type)} is not a torch storage`);
  if (typeof key !== 'string' || !isCount(numel)) throw new Error('malformed storage id');
  return { dtype: STORAGE_TYPES[type.name], key, numel, rest };
}

const REFUSAL_HINT =
  'A plain state dict holds only tensors and containers: in PyTorch, save `model.state_dict()` ' +
  '(`torch.save(model.state_dict(), path)`) rather than the model object or other Python objects.';

function readPickle(bytes: Uint8Array, persistentLoad: (pid: PyValue) => PyValue, start: number, what: string): { value: PyValue; end: number } {
  try {
    return unpickle(bytes, { globals: GLOBALS, persistentLoad }, start);
  } catch (e) {
    if (!(e instanceof PickleError)) throw e;
    const hint = e.message.includes('refusing to load') ? ` ${REFUSAL_HINT}` : '';
    throw new TorchCheckpointError(`Cannot import ${what}: ${e.message}.${hint}`);
  }
}

/**
 * torch.save stores every entry uncompressed; a deflated one is allowed, but not at a zip bomb's ratio, and no
 * entry may exceed what a typed array holds.
 */
const WEIGHTS_ZIP_LIMITS: ZipLimits = { maxEntries: 100_000, maxEntryBytes: 2 ** 31 - 1, maxTotalBytes: 2 ** 36, maxRatio: 16 };

function readZip(bytes: Uint8Array): PyValue {
  let zip: ReturnType<typeof readZipBytes>;
  try {
    zip = readZipBytes(bytes, WEIGHTS_ZIP_LIMITS, 'the zip archive');
  } catch (e) {
    throw new TorchCheckpointError(`Cannot read ${(e as Error).message}`);
  }
  const byName = new Map<string, ZipEntry>(zip.entries.map((e) => [e.name, e]));
  // Entries are unpacked only when the pickle refers to them: an archive's other entries cost nothing.
  const unpack = (entry: ZipEntry): Uint8Array => {
    try {
      return zip.read(entry);
    } catch (e) {
      throw new TorchCheckpointError(`Cannot read ${(e as Error).message}`);
    }
  };
  const names = [...byName.keys()];
  const pickles = names.filter((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (pickles.length !== 1) {
    const listing = names.slice(0, 8).join(', ') + (names.length > 8 ? ', …' : '');
    throw new TorchCheckpointError(
      pickles.length
        ? `The zip archive holds ${pickles.length} checkpoints (${pickles.join(', ')}); expected one <prefix>/data.pkl.`
        : `The zip archive has no <prefix>/data.pkl, so it is not a PyTorch checkpoint (it holds: ${listing || 'nothing'}).`,
    );
  }
  const prefix = pickles[0].slice(0, -'data.pkl'.length);
  if (names.some((n) => n === `${prefix}constants.pkl` || n.startsWith(`${prefix}code/`))) {
    throw new TorchCheckpointError(
      'This is a TorchScript archive (torch.jit.save), not a state dict. Load it in PyTorch and save `model.state_dict()` with torch.save.',
    );
  }
  const byteorderEntry = byName.get(`${prefix}byteorder`);
  if (byteorderEntry && new TextDecoder().decode(unpack(byteorderEntry)).trim() !== 'little') {
    throw new TorchCheckpointError('The checkpoint was saved on a big-endian machine; only little-endian checkpoints are supported.');
  }
  const storages = new Map<string, StorageData>();
  const persistentLoad = (pid: PyValue) => {
    const { dtype, key, numel } = storageId(pid, 5);
    const name = `${prefix}data/${key}`;
    const entry = byName.get(name);
    if (!entry) throw new Error(`the pickle refers to storage ${key} but the archive has no ${name}`);
    const byteLength = numel * ELEMENT_TYPES[dtype].size;
    // The declared size is checked before anything is unpacked or allocated.
    if (entry.size !== byteLength) throw new Error(`${name} holds ${entry.size} bytes; ${numel} ${dtype} elements need ${byteLength} (truncated file?)`);
    let data = storages.get(key);
    if (!data) storages.set(key, (data = { key, bytes: unpack(entry) }));
    return new StorageRef(data, dtype, 0, byteLength);
  };
  return readPickle(unpack(byName.get(pickles[0])!), persistentLoad, 0, pickles[0]).value;
}

const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL = 1001;

function readLegacy(bytes: Uint8Array): PyValue {
  const noStorages = () => {
    throw new Error('unexpected persistent id');
  };
  let pos = 0;
  const next = (what: string, persistentLoad: (pid: PyValue) => PyValue = noStorages) => {
    const { value, end } = readPickle(bytes, persistentLoad, pos, what);
    pos = end;
    return value;
  };
  if (next('the file') !== LEGACY_MAGIC) {
    throw new TorchCheckpointError('The file is a Python pickle but not a torch.save checkpoint (it lacks the legacy magic number).');
  }
  const protocol = next('the protocol version');
  if (protocol !== LEGACY_PROTOCOL) throw new TorchCheckpointError(`Legacy checkpoint protocol ${String(protocol)} is not supported (expected ${LEGACY_PROTOCOL}).`);
  const sysInfo = next('the system info');
  if (!(sysInfo instanceof PyDict) || sysInfo.items.get('little_endian') !== true) {
    throw new TorchCheckpointError('The checkpoint was saved on a big-endian machine (or its system info is malformed); only little-endian checkpoints are supported.');
  }

  const roots = new Map<string, { data: StorageData; dtype: string; byteLength: number }>();
  const views = new Map<string, StorageRef>();
  const persistentLoad = (pid: PyValue) => {
    const { dtype, key, numel, rest } = storageId(pid, 6);
    const size = ELEMENT_TYPES[dtype].size;
    let root = roots.get(key);
    if (!root) roots.set(key, (root = { data: { key }, dtype, byteLength: numel * size }));
    const viewMetadata = rest[0];
    if (viewMetadata === null) return new StorageRef(root.data, dtype, 0, root.byteLength);
    // (view_key, offset, view_size): a storage view from PyTorch < 0.4, in elements of the root.
    const [viewKey, offset, viewSize] = viewMetadata instanceof PyTuple ? viewMetadata.items : [];
    if (typeof viewKey !== 'string' || !isCount(offset) || !isCount(viewSize) || (offset + viewSize) * size > root.byteLength) {
      throw new Error(`malformed storage view of storage ${key}`);
    }
    let view = views.get(viewKey);
    if (!view) views.set(viewKey, (view = new StorageRef(root.data, dtype, offset * size, viewSize * size)));
    return view;
  };
  const object = next('the checkpoint object', persistentLoad);
  const keys = next('the storage key list');
  if (!Array.isArray(keys) || !keys.every((k) => typeof k === 'string')) throw new TorchCheckpointError('The storage key list is malformed.');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (const key of keys as string[]) {
    const root = roots.get(key);
    if (!root) throw new TorchCheckpointError(`The file stores storage ${key}, which no tensor refers to (corrupt file).`);
    if (pos + 8 > bytes.length) throw new TorchCheckpointError(`The file ends before storage ${key} (truncated file).`);
    const numel = view.getBigInt64(pos, true);
    const size = ELEMENT_TYPES[root.dtype].size;
    if (numel * BigInt(size) !== BigInt(root.byteLength)) {
      throw new TorchCheckpointError(`Storage ${key} has ${numel} elements in the file but ${root.byteLength / size} in the pickle (corrupt file).`);
    }
    if (pos + 8 + root.byteLength > bytes.length) {
      throw new TorchCheckpointError(`Storage ${key} needs ${root.byteLength} bytes at byte ${pos + 8} but the file ends at ${bytes.length} (truncated file).`);
    }
    root.data.bytes = bytes.subarray(pos + 8, pos + 8 + root.byteLength);
    pos += 8 + root.byteLength;
  }
  const unread = [...roots.values()].filter((r) => !r.data.bytes);
  if (unread.length) throw new TorchCheckpointError(`The file lacks the data of storage ${unread.map((r) => r.data.key).join(', ')} (corrupt file).`);
  return object;
}

/** The storage element a tensor's last index reaches. */
function lastElement({ offset, shape, stride }: TensorRef): number {
  let last = offset;
  for (let d = 0; d < shape.length; d++) last += (shape[d] - 1) * stride[d];
  return last;
}

/** What expanded views (stride 0) may add beyond twice the storages' bytes. */
const EXPANSION_SLACK_BYTES = 16 * 2 ** 20;

/**
 * Checks every tensor against its storage before anything is allocated: each stays inside its storage, and all
 * together unpack to at most twice their storages' bytes plus a little (a tensor listed under two names, a small
 * expanded view are fine; a stride 0 or overlapping strides that turn a few bytes into gigabytes are not).
 */
function checkTensors(tensors: [string, TensorRef][]): void {
  let storageBytes = 0;
  let tensorBytes = 0;
  const seen = new Set<StorageData>();
  for (const [name, t] of tensors) {
    const type = ELEMENT_TYPES[t.dtype];
    const available = Math.floor(t.storage.byteLength / type.size);
    const numel = elementCount(t.shape);
    if (numel === 0) continue;
    const last = lastElement(t);
    if (!(last < available)) {
      throw new TorchCheckpointError(`Tensor "${name}" ${shapeText(t.shape)} reaches element ${last} of a storage holding ${available} (corrupt file).`);
    }
    if (!seen.has(t.storage.data)) {
      seen.add(t.storage.data);
      storageBytes += t.storage.data.bytes?.length ?? t.storage.byteLength;
    }
    tensorBytes += numel * type.size;
  }
  if (tensorBytes > 2 * storageBytes + EXPANSION_SLACK_BYTES) {
    throw new TorchCheckpointError(
      `The tensors would unpack to ${tensorBytes} bytes from ${storageBytes} bytes of storage: strides of 0 or overlapping views ` +
        'repeat the same data over and over, which no state dict needs (crafted or corrupt file).',
    );
  }
}

/** Row-major host data for one tensor: a view of the storage when contiguous F32 allows it, else a copy. */
function materialise(name: string, t: TensorRef, copy: boolean): StoredTensor {
  const type = ELEMENT_TYPES[t.dtype];
  if (!type.stored) throw new TorchCheckpointError(`Tensor "${name}" is ${t.dtype}; only float32, float16, bfloat16, float64 and int64 tensors can be imported.`);
  const stored = type.stored;
  const { shape, stride, offset } = t;
  const numel = elementCount(shape);
  const last = lastElement(t);
  const bytes = t.storage.data.bytes!;
  const base = t.storage.byteOffset + offset * type.size;
  let expected = 1;
  let contiguous = true;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] !== 1 && stride[d] !== expected) contiguous = false;
    expected *= shape[d];
  }
  const make = (data: Float32Array | BigInt64Array): StoredTensor =>
    stored === 'I64' ? { dtype: stored, shape, data: data as BigInt64Array } : { dtype: stored, shape, data: data as Float32Array };
  if (numel === 0) return make(stored === 'I64' ? new BigInt64Array(0) : new Float32Array(0));
  if (contiguous) return make(decodeElements(bytes, base, numel, stored, copy));
  // Strided (transposed, expanded, sliced): decode the span it touches, then gather in row-major order.
  const span = decodeElements(bytes, base, last - offset + 1, stored);
  const out = stored === 'I64' ? new BigInt64Array(numel) : new Float32Array(numel);
  const index = new Array<number>(shape.length).fill(0);
  let at = 0;
  for (let i = 0; i < numel; i++) {
    out[i] = span[at];
    for (let d = shape.length - 1; d >= 0; d--) {
      at += stride[d];
      if (++index[d] < shape[d]) break;
      at -= stride[d] * shape[d];
      index[d] = 0;
    }
  }
  return make(out);
}

const isStateDict = (v: PyValue): v is PyDict =>
  v instanceof PyDict && v.items.size > 0 && [...v.items].every(([k, t]) => typeof k === 'string' && t instanceof TensorRef);

/** How deep under the top level a state dict may sit ({"model": {"G": state_dict}} is depth 2). */
const MAX_SEARCH_DEPTH = 4;

/**
 * Dicts of tensors reachable through string keys (not through optimizer state), with their key paths. Each dict
 * is visited once, so a pickle whose dicts refer to themselves or to each other cannot make the search explode.
 */
function stateDictCandidates(root: PyValue): { path: string[]; dict: PyDict }[] {
  const found: { path: string[]; dict: PyDict }[] = [];
  const visited = new Set<PyValue>([root]);
  const queue: { path: string[]; value: PyValue }[] = [{ path: [], value: root }];
  for (let next = 0; next < queue.length; next++) {
    const { path, value } = queue[next];
    if (isStateDict(value)) found.push({ path, dict: value });
    else if (value instanceof PyDict && path.length < MAX_SEARCH_DEPTH) {
      for (const [k, v] of value.items) {
        if (typeof k !== 'string' || /optim/i.test(k) || !(v instanceof PyDict) || visited.has(v)) continue;
        visited.add(v);
        queue.push({ path: [...path, k], value: v });
      }
    }
  }
  return found;
}

const pathText = (path: string[]) => (path.length ? path.join('/') : '(the top level)');

/** The state dict inside the checkpoint object: the object itself, the one dict of tensors in it, or `key`. */
function findStateDict(root: PyValue, key: string | undefined): { path: string[]; dict: PyDict } {
  const candidates = stateDictCandidates(root);
  const listing = candidates.map((c) => `${pathText(c.path)} (${c.dict.items.size} tensors)`).join(', ');
  if (key !== undefined) {
    const path = key ? key.split('/') : [];
    let value = root;
    for (const part of path) value = value instanceof PyDict ? (value.items.get(part) ?? null) : null;
    if (isStateDict(value)) return { path, dict: value };
    throw new TorchCheckpointError(`"${key}" does not name a dict of tensors in the checkpoint${candidates.length ? `; these do: ${listing}` : ''}.`);
  }
  if (candidates.length === 1) return candidates[0];
  if (candidates.length > 1) {
    throw new TorchCheckpointError(`The checkpoint holds several state dicts: ${listing}. Choose one with the key option (\`npm run convert -- … --key ${pathText(candidates[0].path)}\`).`);
  }
  const keys = root instanceof PyDict ? [...root.items.keys()].map(String) : [];
  throw new TorchCheckpointError(
    `The checkpoint holds no state dict (a dict of tensors): its top level is a ${pyTypeName(root)}` +
      (keys.length ? ` with keys ${keys.slice(0, 12).join(', ')}${keys.length > 12 ? ', …' : ''}.` : '.'),
  );
}

export interface TorchReadOptions {
  /** Always return owned data. By default contiguous float32 tensors may be views of the file's buffer. */
  copy?: boolean;
  /** Where the state dict is in a checkpoint dict, as a "/"-separated key path ("" for the top level). */
  key?: string;
  /** Remove a `module.` prefix that every name carries (nn.DataParallel). Default true. */
  stripModulePrefix?: boolean;
}

export interface TorchCheckpoint {
  container: 'zip' | 'legacy';
  tensors: StoredTensors;
  /** Key path of the state dict inside the checkpoint object ("" when the object is the state dict). */
  key: string;
  /** The prefix removed from every name, or null. */
  strippedPrefix: string | null;
}

/** Imports the state dict of a torch.save file (zip or legacy) without executing anything in it. */
export function readTorchCheckpoint(bytes: Uint8Array, { copy = false, key, stripModulePrefix = true }: TorchReadOptions = {}): TorchCheckpoint {
  assertLittleEndianHost();
  const kind = identify(bytes);
  if (kind.container !== 'zip' && kind.container !== 'pickle') {
    throw new TorchCheckpointError(`Not a PyTorch checkpoint: this is ${kind.description}. Expected a torch.save file (a zip archive, or a legacy pickle file).`);
  }
  const root = kind.container === 'zip' ? readZip(bytes) : readLegacy(bytes);
  const found = findStateDict(root, key);
  let tensors: StoredTensors = new Map();
  const refs = [...found.dict.items] as [string, TensorRef][];
  checkTensors(refs);
  for (const [name, t] of refs) tensors.set(name, materialise(name, t, copy));
  let strippedPrefix: string | null = null;
  if (stripModulePrefix) ({ tensors, stripped: strippedPrefix } = stripPrefix(tensors));
  return { container: kind.container === 'zip' ? 'zip' : 'legacy', tensors, key: found.path.join('/'), strippedPrefix };
}
