// The app's recolour queue (web/recolour-queue.ts) without a browser: passes run one at a time, requests during a
// pass coalesce into one pass of what is wanted when it starts, a pass whose result is there is skipped unless
// forced, a failure drops the pass queued behind it, exclusive work (an export) serialises with passes, and the
// busy flag flips once each way.
import { describe, expect, test } from 'vitest';
import { RecolourQueue, type RecolourJob } from '../web/recolour-queue.js';

interface Job extends RecolourJob {
  page: string;
}

/** A fake app: the page and hints the user has now, the results made, passes that end when the test says. */
function fakeApp() {
  const app = {
    page: 'p1' as string | null,
    hints: 0,
    results: new Map<string, string>(),
    ran: [] as string[],
    failures: [] as unknown[],
    busy: [] as boolean[],
    /** Passes waiting for the test to end them: resolve or reject. */
    running: [] as { job: Job; end: (error?: Error) => void }[],
  };
  const queue = new RecolourQueue<Job>({
    wanted: () => (app.page ? { page: app.page, key: `${app.page}|${app.hints}` } : null),
    done: (job) => app.results.get(job.page) === job.key,
    run: (job) =>
      new Promise<void>((resolve, reject) => {
        app.ran.push(job.key);
        app.running.push({
          job,
          end: (error) => {
            if (error) return reject(error);
            app.results.set(job.page, job.key);
            resolve();
          },
        });
      }),
    failed: (e) => app.failures.push(e),
    busyChanged: (busy) => app.busy.push(busy),
  });
  /** Lets queued work start (a pass begins on a later microtask). */
  const settle = () => new Promise((r) => setTimeout(r, 0));
  /** Ends the oldest running pass. */
  const finish = async (error?: Error) => {
    await settle();
    app.running.shift()!.end(error);
    await settle();
  };
  return { app, queue, settle, finish };
}

describe('the recolour queue', () => {
  test('one request runs one pass; the app is busy from the request until the pass ends', async () => {
    const { app, queue, finish } = fakeApp();
    const done = queue.request();
    expect(queue.busy).toBe(true);
    expect(app.busy).toEqual([true]);
    await finish();
    await done;
    expect(app.ran).toEqual(['p1|0']);
    expect(queue.busy).toBe(false);
    expect(app.busy).toEqual([true, false]);
  });

  test('requests during a pass coalesce into one more pass, of the hints and page current when it starts', async () => {
    const { app, queue, settle, finish } = fakeApp();
    const first = queue.request();
    await settle();
    app.hints = 1;
    const second = queue.request();
    app.hints = 2;
    const third = queue.request();
    app.page = 'p2';
    expect(queue.request()).toBe(second);
    expect(third).toBe(second);
    await finish();
    await first;
    await finish();
    await second;
    expect(app.ran).toEqual(['p1|0', 'p2|2']);
    // Busy once, from the first request to the end of the last pass.
    expect(app.busy).toEqual([true, false]);
  });

  test('a pass whose result is already there is skipped, unless forced', async () => {
    const { app, queue, settle, finish } = fakeApp();
    const first = queue.request();
    await settle();
    // Hints changed and changed back during the pass: the follow-up would repeat it.
    app.hints = 1;
    app.hints = 0;
    const followUp = queue.request();
    await finish();
    await Promise.all([first, followUp]);
    expect(app.ran).toEqual(['p1|0']);
    await queue.request();
    expect(app.ran).toEqual(['p1|0']);
    const forced = queue.request(true);
    await finish();
    await forced;
    expect(app.ran).toEqual(['p1|0', 'p1|0']);
    // A forced request joining a queued one forces it.
    const running = queue.request(true);
    await settle();
    const queued = queue.request();
    queue.request(true);
    await finish();
    await finish();
    await Promise.all([running, queued]);
    expect(app.ran).toHaveLength(4);
  });

  test('nothing runs while nothing can be coloured', async () => {
    const { app, queue } = fakeApp();
    app.page = null;
    await queue.request(true);
    expect(app.ran).toEqual([]);
    expect(app.busy).toEqual([true, false]);
  });

  test('a failed pass is reported, drops the pass queued behind it, and the next request runs', async () => {
    const { app, queue, settle, finish } = fakeApp();
    const failing = queue.request();
    await settle();
    app.hints = 1;
    const behind = queue.request();
    await finish(new Error('device lost'));
    await Promise.all([failing, behind]);
    expect(app.failures.map((e) => (e as Error).message)).toEqual(['device lost']);
    expect(app.ran).toEqual(['p1|0']);
    expect(queue.busy).toBe(false);
    const next = queue.request();
    await finish();
    await next;
    expect(app.ran).toEqual(['p1|0', 'p1|1']);
  });

  test('cancel drops the queued pass; the running one ends by itself', async () => {
    const { app, queue, settle, finish } = fakeApp();
    const running = queue.request();
    await settle();
    app.hints = 1;
    const queued = queue.request();
    queue.cancel();
    await finish();
    await Promise.all([running, queued]);
    expect(app.ran).toEqual(['p1|0']);
    // A request after the cancel queues afresh.
    const again = queue.request();
    await finish();
    await again;
    expect(app.ran).toEqual(['p1|0', 'p1|1']);
  });

  test('exclusive work waits for the running pass, and requests made during it run after it', async () => {
    const { app, queue, settle, finish } = fakeApp();
    const log: string[] = [];
    const pass = queue.request();
    await settle();
    let endExport!: () => void;
    const exported = queue.exclusive(async () => {
      log.push(`export starts after ${app.ran.length} pass(es), ${app.running.length} running`);
      await new Promise<void>((r) => (endExport = r));
      return 'chapter.cbz';
    });
    await settle();
    expect(log).toEqual([]);
    await finish();
    await pass;
    expect(log).toEqual(['export starts after 1 pass(es), 0 running']);
    // A dot placed during the export: its pass waits for the export.
    app.hints = 1;
    const after = queue.request();
    await settle();
    expect(app.ran).toEqual(['p1|0']);
    endExport();
    expect(await exported).toBe('chapter.cbz');
    await finish();
    await after;
    expect(app.ran).toEqual(['p1|0', 'p1|1']);
    expect(app.busy).toEqual([true, false]);
  });

  test("exclusive work's failure is its caller's, and the queue goes on", async () => {
    const { app, queue, finish } = fakeApp();
    await expect(queue.exclusive(() => Promise.reject(new Error('not a model')))).rejects.toThrow('not a model');
    expect(queue.busy).toBe(false);
    const pass = queue.request();
    await finish();
    await pass;
    expect(app.ran).toEqual(['p1|0']);
    expect(app.failures).toEqual([]);
  });

  test('idle resolves once everything queued has ended', async () => {
    const { queue, settle, finish } = fakeApp();
    queue.request();
    await settle();
    queue.request(true);
    let idle = false;
    const waiting = queue.idle().then(() => (idle = true));
    await finish();
    expect(idle).toBe(false);
    await finish();
    await waiting;
    expect(idle).toBe(true);
  });
});
