// The public, differentiable tensor API.
export { backward, detach, noGrad } from '../autograd/tape.js';
export { Tensor } from '../engine/tensor.js';
export * from './create.js';
export * from './elementwise.js';
export * from './linear.js';
export * from './matmul.js';
export * from './reduce.js';
export * from './shape.js';
export * from './conv.js';
export * from './pool.js';
export * from './pixel-shuffle.js';
export * from './batch-norm.js';
export * from './spectral-norm.js';
export * from './squeeze-excitation.js';
