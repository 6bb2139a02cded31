// `npm run gpu-info [-- --json FILE]`: which WebGPU adapter the engine finds, through which backend, with which
// features and limits. With no adapter it prints what each backend said (the loader's diagnostics) and exits 1.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { nodeDevice } from '../io/dawn.js';
import { runCommand, UsageError } from './command.js';

const USAGE = 'usage: npm run gpu-info -- [--json FILE]';

function parseArgs(argv: string[]): { json: string | null } {
  let json: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--help' || argv[i] === '-h') {
      console.log(`${USAGE}\nPrints the WebGPU adapter the engine uses, its backend, features and limits; --json also writes them to FILE.`);
      process.exit(0);
    } else if (argv[i] === '--json' && argv[i + 1]) {
      json = argv[++i];
    } else {
      throw new UsageError(`Unknown or incomplete option ${argv[i]}; ${USAGE}`);
    }
  }
  return { json };
}

async function main(): Promise<void> {
  const { json } = parseArgs(process.argv.slice(2));
  const gpu = await nodeDevice();
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

process.exit(await runCommand(main));
