// `npm run gpu-info`: which WebGPU adapter the engine finds, through which backend, with which limits.
import { nodeDevice } from '../io/dawn.js';
import { runCommand } from './command.js';

async function main(): Promise<void> {
  const gpu = await nodeDevice();
  console.log(`adapter        ${gpu.adapterName}`);
  console.log(`backend        ${gpu.backend} (featureLevel ${gpu.featureLevel})${gpu.software ? ", software rasteriser (CPU)" : ""}`);
  console.log(`features       ${[...gpu.features].join(', ') || 'none of timestamp-query, shader-f16, subgroups'}`);
  const mib = (v: number) => (v >= 2 ** 20 ? `${(v / 2 ** 20).toFixed(0)} MiB` : `${v}`);
  for (const [name, value] of Object.entries(gpu.limits)) {
    console.log(`${name.padEnd(38)} ${/Size$/.test(name) ? mib(value) : value}`);
  }
  gpu.device.destroy();
}

process.exit(await runCommand(main));
