// PyTorch as a bench peer, through a long-lived Python process (tools/torch-generator-forward.py --serve): it
// builds the network once, then runs one forward per "run" line and answers "done", so the harness times a call
// like any in-process peer (the pipe's round trip is microseconds against a forward's seconds).
// Which Python: $TORCH_PYTHON, else the first of python3 and /usr/bin/python3 whose server starts (Debian's
// python3-torch is the latter where a pyenv python3 shadows it). None: the case runs without a peer, and the
// harness is told why.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const TOOLS = fileURLToPath(new URL('../../tools/', import.meta.url));

export interface TorchPeer {
  name: string;
  run: () => Promise<void>;
  close: () => void;
}

/** One server process; resolves to the peer once it says "ready", or to the reason it did not. */
function serve(python: string, args: string[]): Promise<TorchPeer | string> {
  const child = spawn(python, ['torch-generator-forward.py', ...args, '--serve'], { cwd: TOOLS });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr = (stderr + t).slice(-2000)));
  const lines: string[] = [];
  let waiting: ((line: string) => void) | null = null;
  let buffer = '';
  child.stdout.setEncoding('utf8').on('data', (t: string) => {
    buffer += t;
    for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
      const line = buffer.slice(0, i).trim();
      buffer = buffer.slice(i + 1);
      const resolve = waiting;
      waiting = null;
      if (resolve) resolve(line);
      else lines.push(line);
    }
  });
  const ended = new Promise<string>((resolve) => {
    child.on('error', (e) => resolve(`${python}: ${e.message}`));
    child.on('close', (code) => resolve(`${python} exited (${code}): ${stderr.trim().split('\n').at(-1) ?? ''}`));
  });
  const next = (): Promise<string> =>
    lines.length ? Promise.resolve(lines.shift()!) : Promise.race([new Promise<string>((resolve) => (waiting = resolve)), ended.then((why) => Promise.reject(new Error(why)))]);
  const close = () => {
    child.stdin.end();
    child.kill();
  };
  return next().then(
    (first) => {
      const [word, version] = first.split(' ');
      if (word !== 'ready') {
        close();
        return `${python} answered ${JSON.stringify(first)}`;
      }
      return {
        name: `pytorch-${args[1]} ${version}`,
        async run() {
          child.stdin.write('run\n');
          const answer = await next();
          if (answer !== 'done') throw new Error(`PyTorch peer answered ${JSON.stringify(answer)}`);
        },
        close,
      };
    },
    (e: Error) => e.message,
  );
}

/**
 * The published v1 generator's strict-fp32 forward on a W×H page in PyTorch on `device` (at network `width`, 64
 * published), or the reason there is none (no Python with torch).
 */
export async function torchGeneratorPeer(device: 'cpu' | 'cuda', page: { width: number; height: number }, width = 64): Promise<TorchPeer | string> {
  const pythons = [process.env.TORCH_PYTHON, 'python3', '/usr/bin/python3'].filter((p): p is string => !!p);
  const reasons: string[] = [];
  for (const python of new Set(pythons)) {
    const peer = await serve(python, ['--device', device, '--size', `${page.width}x${page.height}`, '--width', String(width)]);
    if (typeof peer !== 'string') return peer;
    reasons.push(peer);
  }
  return `no Python with torch started the peer (set TORCH_PYTHON, or install python3-torch): ${reasons.join('; ')}`;
}
