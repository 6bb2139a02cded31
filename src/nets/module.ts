// Modules: named parameters, buffers and child modules, and the state dict that names them the way PyTorch
// does, so that the published checkpoints (../shared/reference/state-dicts.txt) load by name.
//
// State-dict order: a module's own tensors in registration order, then each child's, recursively, in
// registration order. PyTorch lists a module's parameters before its buffers; every layer here registers
// them in that order, with one deliberate exception copied from the published discriminator: its spectral-norm
// wrapper stores `weight_u` and `weight_v` (non-trainable there, buffers here) between `bias` and `weight_bar`.
import { engine, keep } from '../engine/engine.js';
import { sizeOf } from '../engine/shape.js';
import type { Tensor } from '../engine/tensor.js';

/** One tensor of a state dict, row-major float32 (checkpoints' integer counters are converted to float). */
export interface StateEntry {
  shape: number[];
  data: Float32Array;
}

export type StateDict = Map<string, StateEntry>;

export type StateKind = 'parameter' | 'buffer';

/** A tensor of the state dict with its dotted name. */
export interface NamedState {
  name: string;
  tensor: Tensor;
  kind: StateKind;
}

interface Slot {
  tensor: Tensor;
  kind: StateKind;
  /** False for buffers that are derived constants (PyTorch's persistent=False): kept, never saved. */
  persistent: boolean;
}

export interface LoadOptions {
  /** Missing and unexpected names are errors (default). Shape mismatches are errors either way. */
  strict?: boolean;
}

export interface LoadResult {
  /** Names the module has but the entries lack (only non-empty when strict is false). */
  missing: string[];
  /** Names in the entries the module does not have (only non-empty when strict is false). */
  unexpected: string[];
}

/**
 * Every difference between a checkpoint's tensors and what a network expects, reported together: thrown by
 * loadStateDict and by the strict architecture check of `npm run convert -- --arch`.
 */
export class StateDictError extends Error {
  constructor(
    /** The network or architecture the checkpoint was checked against. */
    readonly subject: string,
    readonly missing: readonly string[],
    readonly unexpected: readonly string[],
    readonly mismatched: readonly string[],
  ) {
    super(describeProblems(subject, missing, unexpected, mismatched));
    this.name = 'StateDictError';
  }
}

const LISTED = 40;

function describeProblems(subject: string, missing: readonly string[], unexpected: readonly string[], mismatched: readonly string[]): string {
  const total = missing.length + unexpected.length + mismatched.length;
  const lines = [`The checkpoint does not match ${subject}: ${total} problem${total === 1 ? '' : 's'}.`];
  const group = (title: string, items: readonly string[]) => {
    if (!items.length) return;
    lines.push(`  ${title} (${items.length}):`);
    for (const item of items.slice(0, LISTED)) lines.push(`    ${item}`);
    if (items.length > LISTED) lines.push(`    … and ${items.length - LISTED} more`);
  };
  group('wrong shape', mismatched);
  group('missing from the checkpoint', missing);
  group(`in the checkpoint but not in ${subject}`, unexpected);
  if (unexpected.length && unexpected.every((n) => n.startsWith('module.'))) {
    lines.push('  Every unexpected name starts with "module." (saved from nn.DataParallel): strip that prefix when importing.');
  } else if (missing.length && missing.length === unexpected.length) {
    lines.push('  As many names are missing as unexpected: the checkpoint may name the same tensors with a different prefix.');
  } else if (missing.length || unexpected.length) {
    lines.push('  Check that the checkpoint belongs to this network and configuration; pass { strict: false } to load the names that match.');
  }
  return lines.join('\n');
}

const shapeText = (shape: readonly number[]) => `[${shape.join(', ')}]`;

export abstract class Module {
  /** Training mode (the default, as in PyTorch); eval() turns it off recursively. */
  training = true;
  private readonly slots = new Map<string, Slot>();
  private readonly children = new Map<string, Module>();

  /** The class name, for error messages. */
  get typeName(): string {
    return this.constructor.name;
  }

  /** Adds a trained tensor: it becomes a kept leaf with requiresGrad. */
  protected registerParameter(name: string, tensor: Tensor): Tensor {
    this.claimName(name, tensor);
    tensor.requiresGrad = true;
    this.slots.set(name, { tensor: keep(tensor), kind: 'parameter', persistent: true });
    return tensor;
  }

  /** Adds state that is not trained (BN running statistics, spectral-norm u and v): kept, no gradient. */
  protected registerBuffer(name: string, tensor: Tensor, { persistent = true } = {}): Tensor {
    this.claimName(name, tensor);
    tensor.requiresGrad = false;
    this.slots.set(name, { tensor: keep(tensor), kind: 'buffer', persistent });
    return tensor;
  }

  protected registerModule<M extends Module>(name: string, module: M): M {
    this.claimName(name);
    this.children.set(name, module);
    return module;
  }

  private claimName(name: string, tensor?: Tensor): void {
    // loadStateDict writes straight into the buffer, so a registered tensor must own a row-major block.
    if (tensor && !tensor.isContiguous) throw new Error(`${this.typeName}: "${name}" must be a contiguous tensor, got a strided view.`);
    if (!name || name.includes('.')) throw new Error(`${this.typeName}: "${name}" is not a valid name (non-empty, no dots).`);
    if (this.slots.has(name) || this.children.has(name)) throw new Error(`${this.typeName}: "${name}" is registered twice.`);
  }

  /** Direct children in registration order. */
  namedChildren(): [string, Module][] {
    return [...this.children];
  }

  /** Every persistent tensor with its dotted name, in state-dict order. */
  namedState(prefix = ''): NamedState[] {
    const out: NamedState[] = [];
    for (const [name, slot] of this.slots) {
      if (slot.persistent) out.push({ name: prefix + name, tensor: slot.tensor, kind: slot.kind });
    }
    for (const [name, child] of this.children) out.push(...child.namedState(`${prefix}${name}.`));
    return out;
  }

  namedParameters(): [string, Tensor][] {
    return this.namedState().filter((s) => s.kind === 'parameter').map((s) => [s.name, s.tensor]);
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  namedBuffers(): [string, Tensor][] {
    return this.namedState().filter((s) => s.kind === 'buffer').map((s) => [s.name, s.tensor]);
  }

  /** Number of parameter elements (buffers not counted), as PyTorch's sum(p.numel() for p in parameters()). */
  parameterCount(): number {
    return this.parameters().reduce((n, t) => n + t.size, 0);
  }

  /** Turns gradients of every parameter on or off (freezing a pretrained part). */
  setRequiresGrad(enabled: boolean): this {
    for (const t of this.parameters()) t.requiresGrad = enabled;
    return this;
  }

  train(mode = true): this {
    this.training = mode;
    for (const child of this.children.values()) child.train(mode);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Reads every persistent tensor back to the host, in state-dict order. */
  async stateDict(): Promise<StateDict> {
    const out: StateDict = new Map();
    for (const { name, tensor } of this.namedState()) out.set(name, { shape: [...tensor.shape], data: await tensor.data() });
    return out;
  }

  /**
   * Copies `entries` into the module's existing GPU buffers. Every missing, unexpected and mis-shaped name is
   * collected first and reported in one StateDictError; nothing is written unless the whole load is valid.
   */
  loadStateDict(entries: ReadonlyMap<string, StateEntry>, { strict = true }: LoadOptions = {}): LoadResult {
    const own = this.namedState();
    const names = new Set(own.map((s) => s.name));
    const missing = own.filter((s) => !entries.has(s.name));
    const unexpected = [...entries].filter(([name]) => !names.has(name));
    const mismatched: string[] = [];
    for (const { name, tensor } of own) {
      const entry = entries.get(name);
      if (!entry) continue;
      if (shapeText(entry.shape) !== shapeText(tensor.shape)) {
        mismatched.push(`${name}: checkpoint ${shapeText(entry.shape)}, expected ${shapeText(tensor.shape)}`);
      } else if (entry.data.length !== sizeOf(entry.shape)) {
        mismatched.push(`${name}: ${entry.data.length} values for shape ${shapeText(entry.shape)}`);
      }
    }
    if (mismatched.length || (strict && (missing.length || unexpected.length))) {
      throw new StateDictError(
        this.typeName,
        strict ? missing.map((s) => `${s.name} ${shapeText(s.tensor.shape)}`) : [],
        strict ? unexpected.map(([name, e]) => `${name} ${shapeText(e.shape)}`) : [],
        mismatched,
      );
    }
    const e = engine();
    for (const { name, tensor } of own) {
      const entry = entries.get(name);
      if (!entry || tensor.size === 0) continue;
      tensor.assertAlive();
      e.upload(tensor.storage.buffer, entry.data, tensor.offset * 4);
    }
    return { missing: missing.map((s) => s.name), unexpected: unexpected.map(([name]) => name) };
  }

  /** Frees every tensor of this module and its children (non-persistent buffers included). */
  dispose(): void {
    for (const slot of this.slots.values()) slot.tensor.dispose();
    for (const child of this.children.values()) child.dispose();
  }
}
