// `npm run gpu-info`: which WebGPU adapter the engine finds, through which backend, with which limits, and
// Dawn's own messages about the backends it tried (the other commands show them only with --verbose).
import { nodeDevice } from '../io/dawn.js';
import { VERBOSE_FLAG } from '../io/flags.js';
import { commandFlags, runCommand, UsageError } from './command.js';

const USAGE = `usage: npm run gpu-info
Shows the WebGPU adapter the engine would use, its backend and limits, and every backend tried on the way
(WEBGPU_BACKEND=native|vulkan|metal|d3d12|opengl|swiftshader forces one). Dawn's own loader messages are shown
in full here.
  --verbose   accepted for symmetry with the other commands: gpu-info always shows everything
  -h, --help  show this text`;

async function main(): Promise<void> {
  const flags = commandFlags(process.argv.slice(2), [VERBOSE_FLAG], USAGE);
  if (!flags) return;
  if (flags.positionals.length) throw new UsageError(`gpu-info takes no arguments, got "${flags.positionals[0]}".`);
  const gpu = await nodeDevice({ verbose: true });
  console.log(`adapter        ${gpu.adapterName}`);
  console.log(`backend        ${gpu.backend} (featureLevel ${gpu.featureLevel})${gpu.software ? ", software rasteriser (CPU)" : ""}`);
  const mib = (v: number) => (v >= 2 ** 20 ? `${(v / 2 ** 20).toFixed(0)} MiB` : `${v}`);
  for (const [name, value] of Object.entries(gpu.limits)) {
    console.log(`${name.padEnd(38)} ${/Size$/.test(name) ? mib(value) : value}`);
  }
  gpu.device.destroy();
}

process.exit(await runCommand(main, { name: 'gpu-info' }));
