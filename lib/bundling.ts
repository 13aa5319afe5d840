/**
 * How every function is bundled, written once: `ParleyFunction` hands these to `NodejsFunction` and `npm run bench`
 * to esbuild's API, so the bench measures what ships (test/cdk/bundling.test.ts compares the two byte for byte).
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BuildOptions } from 'esbuild';
import { type LazyPackageName, lazyPackageExports } from '../functions/lazy-packages.ts';

/**
 * The AWS SDK is bundled and tree-shaken, except modules it reaches only by a dynamic `import()` on a path a Parley
 * function never takes on Lambda. Left out, such an `import()` stays in the bundle and would fail if it ever ran.
 *
 * - The credential providers the SDK's default chain loads only when no credentials are in the environment (SSO,
 *   shared ini files, processes, web identity, container endpoints, and `@smithy/credential-provider-imds`: ECS
 *   container and EC2 instance metadata). On Lambda the credentials are always in the environment, the chain's
 *   first step.
 * - `@smithy/core/event-streams`: loaded by the HTTP protocols only for an operation with an event-stream member.
 *   None of the clients the functions use has one (the test pins that list: see `clientsWithoutEventStreams`).
 *
 * Together about 110 KB of every bundle.
 */
export const neverLoadedOnLambda = [
  '@aws-sdk/nested-clients',
  '@aws-sdk/credential-provider-sso',
  '@aws-sdk/credential-provider-ini',
  '@aws-sdk/credential-provider-process',
  '@aws-sdk/credential-provider-web-identity',
  '@aws-sdk/credential-provider-login',
  '@aws-sdk/credential-provider-http',
  '@aws-sdk/token-providers',
  '@smithy/credential-provider-imds',
  '@smithy/core/event-streams',
];

/**
 * The SDK clients a bundle may hold: none has an event-stream operation, which `neverLoadedOnLambda` relies on. A
 * new client goes here only once checked (its model has no `@streaming` union). The S3 client is not one (it has
 * SelectObjectContent): `inbound-email` reads the stored mail with one signed GET instead (s3-raw-mail.ts), and
 * the token secret is read the same way (secret-value.ts).
 */
export const clientsWithoutEventStreams = [
  '@aws-sdk/client-apigatewaymanagementapi',
  '@aws-sdk/client-dynamodb',
  '@aws-sdk/client-eventbridge',
  '@aws-sdk/client-ses',
  '@aws-sdk/client-sns',
  '@aws-sdk/client-sqs',
];

/** ESM output still meets CommonJS dependencies that call require(). */
export const esmRequireBanner =
  "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

/**
 * The esbuild options of every function bundle. `charset: 'utf8'` writes non-ASCII text (zod's and
 * libphonenumber's tables, the GSM-7 alphabet) as UTF-8 instead of `\uXXXX` escapes: the same strings, 1-3 KB less.
 */
export const functionBundling = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  minify: true,
  sourcemap: false,
  mainFields: ['module', 'main'],
  external: neverLoadedOnLambda,
  banner: { js: esmRequireBanner },
  charset: 'utf8',
} satisfies BuildOptions;

/**
 * How each package of `lazyPackageExports` (functions/lazy-packages.ts: libraries a function loads on first use, not
 * at init) is built beside each bundle that names it: one CommonJS file, at {@link lazyPackageFile}, holding the
 * exports the functions use (tree-shaken from the package's ES modules; tests and `npm start` load its CommonJS build
 * of the same release). No bundle holds these libraries, so init neither reads nor compiles them.
 */
export const lazyPackageBundling = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: functionBundling.target,
  minify: true,
  sourcemap: false,
  mainFields: functionBundling.mainFields,
  external: neverLoadedOnLambda,
  charset: 'utf8',
} satisfies BuildOptions;

/** The packages of `lazyPackageExports`. Computed here, not in functions/: a bundle names only those it loads. */
export const lazyPackageNames = Object.keys(lazyPackageExports) as LazyPackageName[];

/**
 * Whether a bundle's code can load the package: `loadOnFirstUse(name)` leaves the name as a string literal, and a
 * bundle holds no other (the exports list stays out of bundles) but in the package.json of an SDK client it bundles
 * on purpose (send-message's SES client, ws-message's management API client): `name:"@aws-sdk/client-ses"`, which
 * is not counted. What decides which packages go beside a bundle; `lazyPackageCommands` runs the same test.
 */
export const namesLazyPackage = (bundleSource: string, name: LazyPackageName): boolean =>
  countOf(bundleSource, lazyPackageMarker(name)) > countOf(bundleSource, `name:${lazyPackageMarker(name)}`);

const countOf = (source: string, text: string): number => source.split(text).length - 1;

const lazyPackageMarker = (name: LazyPackageName): string => JSON.stringify(name);

/** Where a lazily loaded package goes, relative to the bundle's folder: where `require(name)` looks first. */
export const lazyPackageFile = (name: LazyPackageName): string => join('node_modules', name, 'index.js');

const packageRoot = fileURLToPath(new URL('..', import.meta.url));

const requireFromRoot = createRequire(join(packageRoot, 'package.json'));

/** The builds that put each lazily loaded package in `outputDir`, in `lazyPackageNames` order. Plain data. */
export const lazyPackageBuilds = (outputDir: string): (BuildOptions & { outfile: string })[] =>
  lazyPackageNames.map((name) => ({
    ...lazyPackageBundling,
    stdin: {
      contents: `export { ${lazyPackageExports[name].join(', ')} } from '${name}';`,
      resolveDir: packageRoot,
      sourcefile: `${name}.js`,
      loader: 'js',
    },
    outfile: join(outputDir, lazyPackageFile(name)),
    logLevel: 'warning',
  }));

/** esbuild's JavaScript API, as installed beside this package (the CDK's local bundling runs the same install). */
const esbuildModulePath = (): string => requireFromRoot.resolve('esbuild');

/**
 * Shell commands that build, beside the bundle in `outputDir`, the lazily loaded packages it names: what
 * `ParleyFunction` runs after NodejsFunction's esbuild, with esbuild's API and the options the bench builds with.
 */
export const lazyPackageCommands = (outputDir: string): string[] => {
  const script =
    "const [, esbuild, bundle, marker, options] = process.argv; const source = require('node:fs').readFileSync(bundle, 'utf8'); if (source.split(marker).length > source.split('name:' + marker).length) require(esbuild).buildSync(JSON.parse(options));";
  const builds = lazyPackageBuilds(outputDir);
  return lazyPackageNames.map((name, index) =>
    [
      process.execPath,
      '-e',
      script,
      esbuildModulePath(),
      join(outputDir, 'index.mjs'),
      lazyPackageMarker(name),
      JSON.stringify(builds[index]),
    ]
      .map(shellQuote)
      .join(' '),
  );
};

export const shellQuote = (value: string): string => `'${value.replaceAll("'", `'\\''`)}'`;
