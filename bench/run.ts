/**
 * `npm run bench`: the figures of DESIGN section 9 beside their budgets. Each part runs in its own child process
 * (one gateway or handler environment per process) and prints its result; this prints a table per part and a
 * summary, and keeps the raw figures in .parley/bench.json (gitignored). An OVER never fails the run (exit 0);
 * only a part that crashes does (exit 1). Every child and temp dir is cleaned up, also on error or Ctrl-C.
 * Nothing leaves 127.0.0.1: every AWS endpoint the children might fall back to points at a closed local port.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeDir, repoRoot, runChild, stopAllChildren } from './lib/child.ts';
import { type PartResult, renderPart, table, verdictOf } from './lib/report.ts';

const parts = [
  {
    script: 'capacity.ts',
    part: '1',
    title: 'DynamoDB capacity per send, replay and inbound reply',
    timeoutMs: 90_000,
  },
  { script: 'overhead.ts', part: '2', title: 'Send handler overhead (p50)', timeoutMs: 120_000 },
  { script: 'bundles.ts', part: '3', title: 'Bundles: size and module init', timeoutMs: 90_000 },
  { script: 'throughput.ts', part: '4', title: 'Local end-to-end throughput', timeoutMs: 120_000 },
];

const tempRoot = mkdtempSync(join(tmpdir(), 'parley-bench-'));

/** The children's environment: no inherited AWS or Parley settings; AWS endpoints default to a closed local port. */
const childEnv = (): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('AWS_') && !name.startsWith('PARLEY_') && !name.startsWith('POWERTOOLS_')) env[name] = value;
  }
  return {
    ...env,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    BENCH_TMP: tempRoot,
  };
};

let cleanedUp = false;
const cleanUp = async () => {
  if (cleanedUp) return;
  cleanedUp = true;
  await stopAllChildren();
  removeDir(tempRoot);
};

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\nbench: ${signal}, stopping`);
    void cleanUp().finally(() => process.exit(130));
  });
}

interface Outcome {
  part: string;
  title: string;
  result?: PartResult;
  error?: string;
  seconds: number;
}

const main = async (): Promise<number> => {
  const started = Date.now();
  const load = () =>
    loadavg()
      .map((l) => l.toFixed(2))
      .join(' ');
  console.log(`Parley bench: DESIGN section 9 budgets (Node ${process.version}, everything on 127.0.0.1)`);
  console.log(
    `  ${availableParallelism()} cores, load average ${load()} at start (timings are noisy on a busy machine)\n`,
  );
  const outcomes: Outcome[] = [];
  try {
    for (const part of parts) {
      const partStarted = Date.now();
      console.error(`bench: part ${part.part} (${part.title})...`);
      const outcome: Outcome = { part: part.part, title: part.title, seconds: 0 };
      try {
        outcome.result = await runChild<PartResult>(part.script, { env: childEnv(), timeoutMs: part.timeoutMs });
      } catch (error) {
        outcome.error = (error as Error).message;
      }
      outcome.seconds = (Date.now() - partStarted) / 1000;
      outcomes.push(outcome);
      console.log(
        outcome.result
          ? `${renderPart(outcome.result)}\n  (${outcome.seconds.toFixed(1)} s)\n`
          : `${part.part}. ${part.title}\n  ERROR: ${outcome.error}\n`,
      );
    }
  } finally {
    await cleanUp();
  }

  const summary: string[][] = [];
  for (const outcome of outcomes) {
    if (!outcome.result) {
      summary.push([outcome.part, outcome.title, 'crashed', '', 'ERROR']);
      continue;
    }
    for (const row of outcome.result.rows) {
      if (row.budget) summary.push([outcome.part, row.label, row.shown, row.budget.text, verdictOf(row)]);
    }
  }
  const count = (verdict: string) => summary.filter((line) => line[4] === verdict).length;
  console.log('Summary');
  console.log(table(['part', 'budget line', 'measured', 'budget', 'verdict'], summary));
  console.log(
    `\n  ${count('PASS')} PASS, ${count('OVER')} OVER, ${count('n/a')} n/a, ${count('ERROR')} crashed` +
      ` — ${((Date.now() - started) / 1000).toFixed(0)} s, load average ${load()} at the end`,
  );

  try {
    const dir = join(repoRoot, '.parley');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'bench.json');
    const verdicts = outcomes.map((o) => ({
      ...o,
      result: o.result && { ...o.result, rows: o.result.rows.map((row) => ({ ...row, verdict: verdictOf(row) })) },
    }));
    writeFileSync(file, `${JSON.stringify({ at: new Date().toISOString(), parts: verdicts }, null, 2)}\n`);
    console.log(`  raw figures: ${file}`);
  } catch (error) {
    console.error('bench: could not write .parley/bench.json:', (error as Error).message);
  }
  return count('ERROR') > 0 ? 1 : 0;
};

main().then(
  (code) => process.exit(code),
  async (error: unknown) => {
    console.error('bench: crashed:', error);
    await cleanUp();
    process.exit(1);
  },
);
