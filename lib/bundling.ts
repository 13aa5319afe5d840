/**
 * How every function is bundled, written once: `ParleyFunction` hands these to `NodejsFunction` and `npm run bench`
 * to esbuild's API, so the bench measures what ships (test/cdk/bundling.test.ts compares the two byte for byte).
 */
import type { BuildOptions } from 'esbuild';

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
 * new client goes here only once checked (its model has no `@streaming` union).
 */
export const clientsWithoutEventStreams = [
  '@aws-sdk/client-apigatewaymanagementapi',
  '@aws-sdk/client-dynamodb',
  '@aws-sdk/client-eventbridge',
  '@aws-sdk/client-secrets-manager',
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
