// `npm run gpu-info [-- --json FILE]`: which WebGPU adapter the engine finds, through which backend, with which
// features and limits, and Dawn's own messages about the backends it tried (the other commands show them only
// with --verbose). With no adapter it prints what each backend said and exits 1.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { nodeDevice } from '../io/dawn.js';
import { flagsHelp, HELP_FLAG, VERBOSE_FLAG, type FlagSpec } from '../io/flags.js';
import { commandFlags, runCommand, UsageError } from './command.js';

/** The flag table: the shared parser's (src/io/flags.ts) and the help's. */
const SPECS: FlagSpec[] = [
  { name: 'json', value: 'FILE', help: "also write the adapter, features, adapter info and limits to FILE (tools/gpu-check.sh's probe)" },
  { ...VERBOSE_FLAG, help: 'accepted for symmetry with the other commands: gpu-info always shows everything' },
  HELP_FLAG,
];

const USAGE = `usage: npm run gpu-info [-- --json FILE]
Shows the WebGPU adapter the engine would use, its backend, features and limits, and every backend tried on the
way (WEBGPU_BACKEND=native|vulkan|metal|d3d12|opengl|swiftshader forces one). Dawn's own loader messages are
shown in full here.
${flagsHelp(SPECS)}`;

async function main(): Promise<void> {
  const flags = commandFlags(process.argv.slice(2), SPECS, USAGE);
  if (!flags) return;
  if (flags.positionals.length) throw new UsageError(`gpu-info takes no arguments, got "${flags.positionals[0]}".`);
  const json = flags.values.get('json') ?? null;
  const gpu = await nodeDevice({ verbose: true });
  console.log(`adapter        ${gpu.adapterName}`);
  console.log(`backend        ${gpu.backend} (featureLevel ${gpu.featureLevel})${gpu.software ? ', software rasteriser (CPU)' : ''}`);
  console.log(`features       ${gpu.adapterFeatures.join(' ') || '(none)'}`);
  console.log(`enabled        ${[...gpu.features].join(', ') || 'none of timestamp-query, shader-f16, subgroups'}`);
  const { subgroupMinSize, subgroupMaxSize, subgroupMatrixConfigs } = gpu.adapterInfo;
  if (subgroupMinSize !== undefined) console.log(`subgroups      ${subgroupMinSize}…${subgroupMaxSize} lanes`);
  if (Array.isArray(subgroupMatrixConfigs) && subgroupMatrixConfigs.length > 0) {
    console.log(`subgroup matrices ${subgroupMatrixConfigs.map((c) => JSON.stringify(c)).join(' ')}`);
  }
  const mib = (v: number) => (v >= 2 ** 20 ? `${(v / 2 ** 20).toFixed(0)} MiB` : `${v}`);
  for (const [name, value] of Object.entries(gpu.limits)) {
    console.log(`${name.padEnd(38)} ${/Size$/.test(name) ? mib(value) : value}`);
  }
  if (json) {
    mkdirSync(dirname(json), { recursive: true });
    const { adapterName, backend, featureLevel, software, adapterFeatures, adapterInfo, limits } = gpu;
    writeFileSync(json, JSON.stringify({ adapter: adapterName, backend, featureLevel, software, features: adapterFeatures, info: adapterInfo, limits }, null, 2) + '\n');
  }
  gpu.device.destroy();
}

process.exit(await runCommand(main, { name: 'gpu-info' }));
