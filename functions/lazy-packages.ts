import { createRequire as requireFrom } from 'node:module';
import type * as ManagementApi from '@aws-sdk/client-apigatewaymanagementapi';
import type * as Ses from '@aws-sdk/client-ses';
import type * as Sqs from '@aws-sdk/client-sqs';
import type * as Libphonenumber from 'libphonenumber-js';
import type * as MimeNode from 'nodemailer/lib/mime-node';
import type * as SmsSegments from 'sms-segments-calculator';

/**
 * Libraries loaded on first use instead of at module init: code holding no state the rest of the function shares,
 * that only some requests need. libphonenumber and its metadata (about 120 KB), for a phone number to check; the
 * segment calculator (about 35 KB), for a text beyond plain ASCII; nodemailer's MIME node (about 90 KB), for an
 * email; the SQS client, for a dead letter, the API Gateway management client, for a chat push, and the SES client,
 * for inbound-email's replies (each client with its own copy of the SDK's core: a client shares nothing with the
 * function's other clients).
 *
 * esbuild does not follow a `createRequire`, so no bundle holds them; each is built, with the exports named here
 * only, into `node_modules/<name>/index.js` beside every function's bundle (`lazyPackageBuilds` in lib/bundling.ts),
 * where Node's resolution finds it on Lambda, as it finds the installed package everywhere else (tests, `npm start`).
 */
export const lazyPackageExports = {
  '@aws-sdk/client-apigatewaymanagementapi': [
    'ApiGatewayManagementApiClient',
    'GoneException',
    'PostToConnectionCommand',
  ],
  '@aws-sdk/client-ses': ['SESClient', 'SendRawEmailCommand'],
  '@aws-sdk/client-sqs': ['SQSClient', 'SendMessageCommand'],
  'libphonenumber-js': ['parsePhoneNumberFromString'],
  'nodemailer/lib/mime-node': ['default'],
  'sms-segments-calculator': ['SegmentedMessage'],
} as const satisfies { [N in keyof Installed]: readonly (keyof Installed[N])[] };

interface Installed {
  '@aws-sdk/client-apigatewaymanagementapi': typeof ManagementApi;
  '@aws-sdk/client-ses': typeof Ses;
  '@aws-sdk/client-sqs': typeof Sqs;
  'libphonenumber-js': typeof Libphonenumber;
  'nodemailer/lib/mime-node': typeof MimeNode;
  'sms-segments-calculator': typeof SmsSegments;
}

export type LazyPackageName = keyof typeof lazyPackageExports;

type LazyPackage<N extends LazyPackageName> = Pick<
  Installed[N],
  (typeof lazyPackageExports)[N][number] & keyof Installed[N]
>;

const requireHere = requireFrom(import.meta.url);
const loaded = new Map<LazyPackageName, unknown>();

/** The package, loaded (synchronously) the first time it is asked for. */
export const loadOnFirstUse = <N extends LazyPackageName>(name: N): LazyPackage<N> => {
  let loadedPackage = loaded.get(name);
  if (loadedPackage === undefined) {
    loadedPackage = requireHere(name);
    loaded.set(name, loadedPackage);
  }
  return loadedPackage as LazyPackage<N>;
};
