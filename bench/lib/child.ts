/**
 * Process plumbing for the bench: every part that needs its own gateway or a clean environment runs in a child
 * process (`node --import tsx <part>.ts`) that prints one result line; the parent collects it. Children end with
 * their parent (the IPC channel closes), and every child and temp dir is cleaned up even on error.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const benchDir = join(repoRoot, 'bench');

const resultMarker = '@@parley-bench@@ ';

/** Prints one JSON result for the parent to collect (stdout carries nothing else of interest). */
export const emitResult = (value: unknown): void => {
  process.stdout.write(`${resultMarker}${JSON.stringify(value)}\n`);
};

/** A child started by the bench: `first` is its first emitted result (a part's result, or a server's address). */
export interface BenchChild<T> {
  child: ChildProcess;
  first: Promise<T>;
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

const liveChildren = new Set<ChildProcess>();

const waitExit = (child: ChildProcess): Promise<number | null> =>
  new Promise((done) => {
    if (child.exitCode !== null || child.signalCode !== null) return done(child.exitCode);
    child.once('exit', (code) => done(code));
  });

/** Ends one child we started: SIGTERM, then SIGKILL if it has not gone within `graceMs`. */
export const stopChild = async (child: ChildProcess, graceMs = 5_000): Promise<void> => {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = waitExit(child);
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
};

/** Stops every child this process started and has not seen exit yet. */
export const stopAllChildren = async (): Promise<void> => {
  await Promise.all([...liveChildren].map((child) => stopChild(child)));
};

/** Starts `bench/<script>` in a child Node process with tsx; stdout lines other than the result are relayed to stderr. */
export const startChild = <T>(
  script: string,
  options: { args?: string[]; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): BenchChild<T> => {
  const child = fork(join(benchDir, script), options.args ?? [], {
    cwd: repoRoot,
    execArgv: ['--import', 'tsx'],
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  liveChildren.add(child);
  const exited = waitExit(child).then((code) => {
    liveChildren.delete(child);
    return code;
  });
  const first = new Promise<T>((resolveFirst, reject) => {
    let settled = false;
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            if (settled) return;
            settled = true;
            reject(new Error(`${script} took longer than ${Math.round((options.timeoutMs ?? 0) / 1000)} s`));
            void stopChild(child);
          }, options.timeoutMs);
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.on('line', (line) => {
      if (!line.startsWith(resultMarker)) {
        process.stderr.write(`${line}\n`);
        return;
      }
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      try {
        resolveFirst(JSON.parse(line.slice(resultMarker.length)) as T);
      } catch (error) {
        reject(error);
      }
    });
    void exited.then((code) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(new Error(`${script} exited (code ${code}) without a result`));
    });
  });
  // Nobody may be awaiting `first` when the child dies after a stop(); never let that become an unhandled rejection.
  first.catch(() => undefined);
  return { child, first, exited, stop: () => stopChild(child) };
};

/** Runs a part to completion and returns its result. */
export const runChild = async <T>(script: string, options: Parameters<typeof startChild>[1] = {}): Promise<T> => {
  const started = startChild<T>(script, options);
  try {
    const result = await started.first;
    await started.exited;
    return result;
  } finally {
    await started.stop();
  }
};

/** A temp dir under the run's root (BENCH_TMP) or the OS temp dir; removed by `removeDir`. */
export const makeTempDir = (prefix: string): string => {
  const root = process.env.BENCH_TMP ?? tmpdir();
  return mkdtempSync(join(root, `${prefix}-`));
};

export const removeDir = (path: string): void => {
  rmSync(path, { recursive: true, force: true, maxRetries: 3 });
};

type Cleanup = () => unknown;

/**
 * The body of a bench child: runs `body` with a cleanup stack, emits its result, then cleans up and exits. Ends
 * early, cleaning up, on SIGTERM/SIGINT or when the parent goes away. `keepAlive` children (servers) emit their
 * address and then run until stopped.
 */
export const childMain = (
  body: (defer: (cleanup: Cleanup) => void) => Promise<unknown>,
  options: { keepAlive?: boolean } = {},
): void => {
  const cleanups: Cleanup[] = [];
  const defer = (cleanup: Cleanup) => {
    cleanups.push(cleanup);
  };
  let ending = false;
  const end = async (code: number) => {
    if (ending) return;
    ending = true;
    for (const cleanup of cleanups.reverse()) {
      try {
        await Promise.race([cleanup(), new Promise((done) => setTimeout(done, 5_000).unref())]);
      } catch (error) {
        console.error('[bench] cleanup failed:', error);
      }
    }
    process.exit(code);
  };
  process.once('SIGTERM', () => void end(0));
  process.once('SIGINT', () => void end(130));
  process.once('disconnect', () => void end(1));
  body(defer).then(
    (result) => {
      emitResult(result);
      if (!options.keepAlive) void end(0);
    },
    (error: unknown) => {
      console.error('[bench] part failed:', error);
      void end(1);
    },
  );
};
