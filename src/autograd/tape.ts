// Reverse-mode autodiff. Each differentiable op links its output to a GradNode (its inputs and a closure
// mapping the output's gradient to theirs); backward() walks that graph in reverse topological order.
// The gradient rules themselves sit beside their ops in src/ops/, one table per op family; the tape itself
// needs only the kernels' add, fill and copy to sum and seed gradients.
import { keep, tidy } from '../engine/engine.js';
import type { GradNode, Tensor } from '../engine/tensor.js';
import { binary, contiguousCopy, fill } from '../kernels/elementwise.js';

let gradEnabled = true;

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs fn without recording gradients (inference, optimizer updates, gradient computations themselves). */
export function noGrad<T>(fn: () => T): T {
  const before = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = before;
  }
}

/** Links `out` to its inputs when any of them needs a gradient. Returns `out`. */
export function record(out: Tensor, op: string, inputs: readonly Tensor[], backward: GradNode['backward']): Tensor {
  if (gradEnabled && inputs.some((t) => t.requiresGrad)) {
    out.requiresGrad = true;
    out.node = { op, inputs, backward };
  }
  return out;
}

/** The same values as t, without a link to the graph. */
export function detach(t: Tensor): Tensor {
  return t.view(t.shape, t.strides, t.offset);
}

/** Every tensor root depends on through tensors that need gradients, root first, each after all its users. */
function topologicalOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>([root]);
  // Iterative DFS: generator graphs are hundreds of ops deep.
  const stack: [Tensor, number][] = [[root, 0]];
  while (stack.length) {
    const top = stack[stack.length - 1];
    const inputs = top[0].node?.inputs ?? [];
    if (top[1] < inputs.length) {
      const next = inputs[top[1]++];
      if (next.requiresGrad && !seen.has(next)) {
        seen.add(next);
        stack.push([next, 0]);
      }
    } else {
      order.push(top[0]);
      stack.pop();
    }
  }
  return order.reverse();
}

/**
 * Accumulates d(root)/d(leaf) into `leaf.grad` for every leaf with requiresGrad. `grad` is the upstream
 * gradient (default: ones, which needs a single-element root). The graph is released afterwards.
 */
export function backward(root: Tensor, grad?: Tensor): void {
  root.assertAlive();
  if (!root.requiresGrad) throw new Error(`backward(): ${root} does not require grad (no input had requiresGrad, or it was computed under noGrad).`);
  if (!grad && root.size !== 1) throw new Error(`backward(): ${root} is not a scalar; pass the upstream gradient explicitly.`);
  if (grad && grad.shape.join() !== root.shape.join()) throw new Error(`backward(): gradient shape [${grad.shape}] differs from [${root.shape}].`);

  const order = topologicalOrder(root);
  // tidy() or dispose() may have freed part of the graph (a loss returned from tidy keeps only itself): what lies
  // behind a freed tensor is unreachable, and walking on would hand its gradient to the freed tensor as if it
  // were a leaf, losing every parameter's gradient without a word.
  const freed = order.find((t) => t.isDisposed);
  if (freed) {
    throw new Error(
      `backward(): ${freed} in the graph of ${root} was disposed (by tidy() or dispose()), so the gradients behind it ` +
        'cannot be computed. Call backward() inside the tidy() that computes the loss, or keep() what it needs.',
    );
  }
  noGrad(() => {
    // Every tensor in `grads` is owned here (its own Tensor object), so it can be disposed once consumed.
    const grads = new Map<Tensor, Tensor>([[root, grad ? detach(grad) : fill(root.shape, 1)]]);
    for (const t of order) {
      const g = grads.get(t);
      if (!g) continue;
      grads.delete(t);
      if (!t.node) {
        accumulateLeaf(t, g);
        continue;
      }
      // Temporaries of the rule are freed at once; only the gradients it returns survive.
      const node = t.node;
      const inputGrads = tidy(() => node.backward(g, node.inputs.map((input) => input.requiresGrad)));
      t.node.inputs.forEach((input, i) => {
        const gi = inputGrads[i];
        if (!gi || !input.requiresGrad) return;
        if (gi.shape.join() !== input.shape.join()) {
          throw new Error(`autograd: the ${t.node!.op} rule gave a gradient of shape [${gi.shape}] for an input of shape [${input.shape}].`);
        }
        const owned = detach(gi);
        const previous = grads.get(input);
        if (previous) {
          grads.set(input, binary('add', previous, owned));
          previous.dispose();
          owned.dispose();
        } else {
          grads.set(input, owned);
        }
      });
      for (const gi of inputGrads) gi?.dispose();
      g.dispose();
      t.node = null;
    }
  });
}

function accumulateLeaf(leaf: Tensor, g: Tensor): void {
  const previous = leaf.grad;
  const total = previous ? binary('add', previous, g) : contiguousCopy(g);
  leaf.grad = keep(total);
  previous?.dispose();
  if (total !== g) g.dispose();
}
