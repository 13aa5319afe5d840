/**
 * How every function is bundled, shared by the CDK construct and `npm run bench` so the bench measures what ships.
 *
 * The AWS SDK is bundled and tree-shaken, except the credential providers that the SDK's default chain loads with a
 * dynamic `import()` only when no credentials are in the environment (SSO, shared ini files, processes, web
 * identity, container endpoints). On Lambda the credentials are always in the environment, so these are never
 * loaded; leaving them out saves about 90 KB of every bundle.
 */
export const credentialProvidersNeverLoadedOnLambda = [
  '@aws-sdk/nested-clients',
  '@aws-sdk/credential-provider-sso',
  '@aws-sdk/credential-provider-ini',
  '@aws-sdk/credential-provider-process',
  '@aws-sdk/credential-provider-web-identity',
  '@aws-sdk/credential-provider-login',
  '@aws-sdk/credential-provider-http',
  '@aws-sdk/token-providers',
];

/** ESM output still meets CommonJS dependencies that call require(). */
export const esmRequireBanner =
  "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";
