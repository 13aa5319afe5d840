/**
 * Part 3: each Lambda's bundle, built with the options the CDK builds it with (`functionBundling` in
 * lib/bundling.ts, which lib/parley-function.ts hands to NodejsFunction; test/cdk/bundling.test.ts checks the two
 * give the same bytes), except the target: node20 here, so Node 20 can import it. Beside it a baseline bundle that
 * only imports the SNS and DynamoDB clients, built the same way. Size, and module init time measured in fresh Node
 * processes, median of 15, interleaved. The packages a function loads on first use (functions/lazy-packages.ts) are
 * built as the CDK builds them, beside the bundles where their `require` finds them, and counted apart: init does not
 * load them, and the size of a bundle is the size of its `index.mjs`. Each bundle's row names those its code can load.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type BuildOptions, build, type Metafile } from 'esbuild';
import * as envNames from '../functions/config/env-names.ts';
import { functionBundling, lazyPackageBuilds, lazyPackageNames, namesLazyPackage } from '../lib/bundling.ts';
import { childMain, makeTempDir, removeDir, repoRoot } from './lib/child.ts';
import { median, num, type PartResult, type Row } from './lib/report.ts';

// 5 left a bundle anywhere between 1.4x and 1.7x on a loaded machine; 15 settle it within a few hundredths.
const runs = 15;
const maxKb = 400;
const initFactor = 1.5;

// The baseline gets the same options, externals included, so the comparison stays fair.
const cdkLike: BuildOptions = { ...functionBundling, target: 'node20', logLevel: 'silent' };

const baselineSource = `
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
const sns = new SNSClient({});
const db = DynamoDBDocumentClient.from(new DynamoDBClient({}));
export const handler = async (event) => {
  await db.send(new PutCommand({ TableName: process.env.PARLEY_TABLE_NAME, Item: { pk: event.id, sk: 'x' } }));
  return sns.send(new PublishCommand({ PhoneNumber: event.phone, Message: event.text }));
};
`;

/** The variables the brief names for every handler; endpoints point at a closed local port so nothing leaves. */
const listedEnv: Record<string, string> = {
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
  AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  PARLEY_TABLE_NAME: 'parley',
  PARLEY_EVENT_BUS_NAME: 'parley',
  PARLEY_EVENTS_DLQ_URL: 'http://127.0.0.1:9/000000000000/parley-undelivered-events',
  PARLEY_SES_CONFIGURATION_SET: 'parley',
  PARLEY_REPLY_DOMAIN: 'reply.parley.example',
  PARLEY_TOKEN_SECRET: 'bench-token-secret-0123456789abcdefghijklmno',
  POWERTOOLS_SERVICE_NAME: 'parley',
  POWERTOOLS_METRICS_DISABLED: 'true',
  POWERTOOLS_LOG_LEVEL: 'WARN',
};

const sourceFiles = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sourceFiles(join(dir, entry.name))
      : entry.name.endsWith('.ts')
        ? [join(dir, entry.name)]
        : [],
  );

/**
 * Variables a handler reads with `requireEnv(envNames.…)` that the list above lacks (newer handlers add some):
 * placeholders.
 */
const extraEnv = (functionsDir: string): Record<string, string> => {
  const extra: Record<string, string> = {};
  for (const file of sourceFiles(functionsDir)) {
    for (const match of readFileSync(file, 'utf8').matchAll(/requireEnv\(\s*envNames\.(\w+)\s*\)/g)) {
      const name = (envNames as Record<string, string>)[match[1] as string];
      if (name === undefined) throw new Error(`${file}: envNames.${match[1]} is not in functions/config/env-names.ts`);
      if (name in listedEnv) continue;
      extra[name] = name.endsWith('_URL')
        ? 'http://127.0.0.1:9/000000000000/bench'
        : name.endsWith('_ARN')
          ? 'arn:aws:sns:us-east-1:000000000000:bench'
          : 'bench';
    }
  }
  return extra;
};

const initScript = `
const url = process.argv[1];
const started = performance.now();
await import(url);
const ms = performance.now() - started;
process.stdout.write(JSON.stringify({ ms }) + '\\n');
process.exit(0);
`;

/** Imports one bundle in a fresh Node process; resolves the import time in ms. */
const timeInit = (file: string, env: NodeJS.ProcessEnv): Promise<number> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', initScript, pathToFileURL(file).href], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      try {
        if (code !== 0) {
          const lines = err.split('\n').map((line) => line.trim());
          throw new Error(lines.find((line) => /^\w*(Error|Exception)\b/.test(line)) ?? `exit ${code}`);
        }
        resolve((JSON.parse(out.trim()) as { ms: number }).ms);
      } catch (error) {
        reject(error);
      }
    });
  });

interface Bundle {
  name: string;
  file: string;
  bytes: number;
  times: number[];
  /** The largest contributors to the output, by package (or "project" for our own files). */
  top?: { source: string; bytes: number }[];
  /** The lazily loaded packages its code can load (it names them). */
  lazy?: string[];
  error?: string;
}

/** Output bytes per package, from esbuild's metafile. */
const topContributors = (metafile: Metafile): { source: string; bytes: number }[] => {
  const bySource = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [path, { bytesInOutput }] of Object.entries(output.inputs)) {
      const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
      const source = match?.[1] ?? 'project';
      bySource.set(source, (bySource.get(source) ?? 0) + bytesInOutput);
    }
  }
  return [...bySource.entries()]
    .map(([source, bytes]) => ({ source, bytes }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, 8);
};

/** Resolves, from a fresh Node in `dir`, where each lazily loaded package is found, and that it loads. */
const checkLazyPackages = (dir: string): Promise<void> =>
  new Promise((resolve, reject) => {
    const script = `
const { createRequire } = require('node:module');
const load = createRequire(process.argv[1] + '/bundle.mjs');
for (const name of JSON.parse(process.argv[2])) {
  const path = load.resolve(name);
  if (!path.startsWith(process.argv[1])) throw new Error(name + ' resolves to ' + path + ', outside the bundles');
  load(name);
}`;
    const child = spawn(process.execPath, ['-e', script, dir, JSON.stringify(lazyPackageNames)], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`lazily loaded packages: ${err.trim()}`))));
  });

childMain(async (defer) => {
  const outDir = makeTempDir('parley-bundles');
  defer(() => removeDir(outDir));
  const functionsDir = join(repoRoot, 'functions');
  const handlersDir = join(functionsDir, 'handlers');
  const extra = extraEnv(functionsDir);
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '', ...listedEnv, ...extra };
  const entries = readdirSync(handlersDir)
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts') && !file.includes('.test.'))
    .sort();

  const started = performance.now();
  const lazyBuilds = lazyPackageBuilds(outDir);
  const lazyPackagesBuilt = Promise.all(lazyBuilds.map((options) => build(options)));
  const bundles: Bundle[] = await Promise.all([
    (async (): Promise<Bundle> => {
      const file = join(outDir, 'baseline.mjs');
      await build({
        ...cdkLike,
        stdin: { contents: baselineSource, resolveDir: repoRoot, sourcefile: 'baseline.ts', loader: 'ts' },
        outfile: file,
      });
      return { name: 'baseline (SNS + DynamoDB clients)', file, bytes: statSync(file).size, times: [] };
    })(),
    ...entries.map(async (entry): Promise<Bundle> => {
      const name = basename(entry, '.ts');
      const file = join(outDir, `${name}.mjs`);
      try {
        const { metafile } = await build({
          ...cdkLike,
          entryPoints: [join(handlersDir, entry)],
          outfile: file,
          metafile: true,
        });
        const source = readFileSync(file, 'utf8');
        const lazy = lazyPackageNames.filter((lazyName) => namesLazyPackage(source, lazyName));
        return { name, file, bytes: statSync(file).size, times: [], top: topContributors(metafile), lazy };
      } catch (error) {
        return { name, file, bytes: Number.NaN, times: [], error: `build failed: ${(error as Error).message}` };
      }
    }),
  ]);
  await lazyPackagesBuilt;
  const buildMs = performance.now() - started;
  await checkLazyPackages(outDir);
  const lazyKb = new Map(lazyPackageNames.map((name, i) => [name, statSync(lazyBuilds[i]?.outfile ?? '').size / 1024]));

  // One discarded round warms the file cache; then rounds over all bundles, so drift hits each alike.
  for (let round = 0; round <= runs; round++) {
    for (const bundle of bundles) {
      if (bundle.error) continue;
      try {
        const ms = await timeInit(bundle.file, env);
        if (round > 0) bundle.times.push(ms);
      } catch (error) {
        bundle.error = `init failed: ${(error as Error).message}`;
      }
    }
  }

  const [baseline, ...handlers] = bundles as [Bundle, ...Bundle[]];
  if (baseline.error) throw new Error(`baseline bundle: ${baseline.error}`);
  const baselineMs = median(baseline.times);
  const rows: Row[] = [
    {
      label: baseline.name,
      value: null,
      shown: `${num(baseline.bytes / 1024, 1)} KB, init ${num(baselineMs, 1)} ms`,
    },
  ];
  for (const bundle of handlers) {
    rows.push({
      label: `${bundle.name}: size`,
      value: bundle.bytes / 1024,
      shown: Number.isFinite(bundle.bytes)
        ? `${num(bundle.bytes / 1024, 1)} KB${bundle.lazy?.length ? ` (+ ${bundle.lazy.join(', ')} on first use)` : ''}`
        : 'n/a',
      budget: { max: maxKb, text: `≤ ${maxKb} KB` },
    });
    const ms = median(bundle.times);
    rows.push({
      label: `${bundle.name}: init`,
      value: bundle.error ? null : ms / baselineMs,
      shown: bundle.error ? bundle.error : `${num(ms, 1)} ms = ${num(ms / baselineMs)}× baseline`,
      budget: { max: initFactor, text: `≤ ${initFactor}× (${num(baselineMs * initFactor, 1)} ms)` },
    });
  }
  const result: PartResult = {
    part: '3',
    title: 'Bundles (esbuild as the CDK builds them; init in fresh Node processes)',
    rows,
    notes: [
      `${handlers.length} handler entry points found in functions/handlers; built in ${num(buildMs / 1000, 1)} s`,
      `init = performance.now() around await import(bundle) in a fresh \`node\`, median of ${runs} (1 warm-up round discarded); target node20 (Lambda runs node24); KB = 1024 bytes`,
      `loaded on first use, not at init, from beside the bundles that name them (built as the CDK builds them, not in the sizes above): ${[
        ...lazyKb,
      ]
        .map(([name, kb]) => `${name} ${num(kb, 1)} KB`)
        .join(', ')}`,
      ...handlers
        .filter(
          (bundle) => bundle.top && (bundle.bytes / 1024 > maxKb || median(bundle.times) > baselineMs * initFactor),
        )
        .map(
          (bundle) =>
            `${bundle.name} biggest parts: ${(bundle.top ?? []).map((t) => `${t.source} ${num(t.bytes / 1024, 0)} KB`).join(', ')}`,
        ),
      ...(Object.keys(extra).length > 0
        ? [`placeholders for variables the handlers require beyond the listed ones: ${Object.keys(extra).join(', ')}`]
        : []),
    ],
    details: bundles.map(({ name, bytes, times, top, lazy, error }) => ({ name, bytes, times, top, lazy, error })),
  };
  return result;
});
