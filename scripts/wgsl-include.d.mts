// Types of scripts/wgsl-include.mjs for vitest.config.ts.
export function expandWgsl(path: string): { code: string; files: string[] };
export const wgslPlugin: { name: string; setup(build: unknown): void };
