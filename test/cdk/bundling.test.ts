import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  clientsWithoutEventStreams,
  functionBundling,
  lazyPackageBuilds,
  lazyPackageFile,
  lazyPackageNames,
  namesLazyPackage,
  neverLoadedOnLambda,
} from '../../lib/bundling.ts';
import { packageRoot } from '../../lib/parley-function.ts';
import { createGatewayApp, functionLogicalId, type HandlerName, handlerNames } from './gateway-app.ts';

const outdir = mkdtempSync(join(tmpdir(), 'parley-cdk-bundle-'));

/**
 * Packages others load on first use that a function bundles on purpose: ws-message pushes on most frames; a send goes
 * by SMS or by email, and so may an agent's reply (inbound-email's replies are its rare path).
 */
const bundledOnPurpose: Partial<Record<string, readonly string[]>> = {
  'ws-message': ['@aws-sdk/client-apigatewaymanagementapi'],
  'send-message': ['@aws-sdk/client-ses'],
  conversations: ['@aws-sdk/client-ses'],
  // A failed message's fallback may go by email, the channel the report was not about.
  'delivery-status': ['@aws-sdk/client-ses'],
  // Every invocation queues, delays or dead-letters through SQS.
  'webhook-sender': ['@aws-sdk/client-sqs'],
};
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

describe('function bundles', () => {
  // The one synth that runs esbuild on the real functions/handlers/*.ts and copies the real web/ pages.
  const { app, stack } = createGatewayApp({ bundle: true, appProps: { outdir } });
  let assemblyDir = '';
  let resources: ReturnType<Template['toJSON']> = {};
  beforeAll(() => {
    assemblyDir = app.synth().directory;
    resources = Template.fromStack(stack).toJSON().Resources;
  });
  const assetDirOf = (name: HandlerName): string => {
    const code = resources[functionLogicalId(stack, name)].Properties.Code;
    return join(assemblyDir, `asset.${String(code.S3Key).replace(/\.zip$/, '')}`);
  };

  it('builds one ESM bundle per handler with local esbuild, the chat functions included', () => {
    expect(handlerNames).toEqual(expect.arrayContaining(['ws-connect', 'ws-message', 'ws-disconnect', 'pages']));
    for (const name of handlerNames) {
      const bundle = join(assetDirOf(name), 'index.mjs');
      expect(existsSync(bundle), `${name}: ${bundle}`).toBe(true);
      const source = readFileSync(bundle, 'utf8');
      expect(source.startsWith("import { createRequire } from 'module';"), name).toBe(true);
      expect(source, name).toMatch(/export\s*\{[^}]*\bas handler\b[^}]*\}|export\s*\{[^}]*\bhandler\b[^}]*\}/);
      expect(source, `${name} must not be CommonJS`).not.toMatch(/\bmodule\.exports\s*=/);
    }
  });

  it('bundles the AWS SDK but leaves out what Lambda never loads, only as dynamic imports', () => {
    const source = readFileSync(join(assetDirOf('send-message'), 'index.mjs'), 'utf8');
    // Booleans, not the source: a failure message must not print a 600 KB bundle.
    expect(source.includes('AWS.SNS.SMS.SMSType'), 'the SNS client is bundled').toBe(true);
    for (const left of [
      '@aws-sdk/credential-provider-sso',
      '@smithy/credential-provider-imds',
      '@smithy/core/event-streams',
    ]) {
      expect(source.includes(`import("${left}")`), `${left} stays a dynamic import`).toBe(true);
    }
    for (const name of handlerNames) {
      const bundle = readFileSync(join(assetDirOf(name), 'index.mjs'), 'utf8');
      // A static import of a left-out module would fail at load on Lambda: there must be none.
      expect(/(?:^|[;}\s])import\s*(?:[\w{},*\s]+from\s*)?"@(?:aws-sdk|smithy)\//.test(bundle), name).toBe(false);
    }
  });

  it('holds only SDK clients without event-stream operations, since @smithy/core/event-streams is left out', () => {
    expect(neverLoadedOnLambda).toContain('@smithy/core/event-streams');
    for (const name of handlerNames) {
      const bundle = readFileSync(join(assetDirOf(name), 'index.mjs'), 'utf8');
      // Each client bundles its package.json, name included.
      const clients = [...bundle.matchAll(/name:"(@aws-sdk\/client-[a-z0-9-]+)"/g)].map((match) => match[1]);
      for (const client of clients) expect(clientsWithoutEventStreams, `${name} bundles ${client}`).toContain(client);
    }
    // The clients loaded on first use are built with the same modules left out.
    for (const lazyPackage of lazyPackageNames.filter((lazyName) => lazyName.startsWith('@aws-sdk/client-'))) {
      expect(clientsWithoutEventStreams).toContain(lazyPackage);
    }
  });

  it('is byte for byte what esbuild builds from functionBundling, the options npm run bench builds with', async () => {
    for (const name of handlerNames) {
      const { outputFiles, metafile } = await build({
        ...functionBundling,
        entryPoints: [join(packageRoot, 'functions', 'handlers', `${name}.ts`)],
        absWorkingDir: packageRoot,
        outfile: join(outdir, 'bench-like', name, 'index.mjs'),
        write: false,
        metafile: true,
        logLevel: 'silent',
      });
      const cdk = readFileSync(join(assetDirOf(name), 'index.mjs'));
      expect(Buffer.from(outputFiles[0]?.contents ?? []).equals(cdk), name).toBe(true);
      // The packages loaded on first use stay out of the bundles (a static import would pull them back in), but
      // where a function imports one on purpose.
      const inputs = Object.keys(metafile.inputs);
      for (const lazyPackage of lazyPackageNames.filter((lazyName) => !bundledOnPurpose[name]?.includes(lazyName))) {
        expect(
          inputs.filter((input) => input.includes(`node_modules/${lazyPackage}/`)),
          `${name}: ${lazyPackage}`,
        ).toEqual([]);
      }
    }
  });

  it('ships the packages a bundle loads on first use beside it, as the bench builds them, where require finds them', async () => {
    const builds = lazyPackageBuilds(join(outdir, 'bench-like-lazy'));
    const built = await Promise.all(builds.map((options) => build({ ...options, write: false, logLevel: 'silent' })));
    for (const name of handlerNames) {
      const dir = assetDirOf(name);
      const bundle = readFileSync(join(dir, 'index.mjs'), 'utf8');
      const load = createRequire(join(dir, 'index.mjs'));
      lazyPackageNames.forEach((lazyPackage, index) => {
        const path = join(dir, lazyPackageFile(lazyPackage));
        if (!namesLazyPackage(bundle, lazyPackage)) {
          expect(existsSync(path), `${name} does not load ${lazyPackage}`).toBe(false);
          return;
        }
        const shipped = readFileSync(path);
        const expected = Buffer.from(built[index]?.outputFiles?.[0]?.contents ?? []);
        expect(shipped.equals(expected), `${name}: ${lazyPackage}`).toBe(true);
        // What the function's `createRequire(import.meta.url)(name)` resolves to on Lambda.
        expect(load.resolve(lazyPackage), `${name}: ${lazyPackage}`).toBe(join(dir, lazyPackageFile(lazyPackage)));
      });
    }
    // inbound-email loads the SES client for its replies; send-message bundles it, and its package.json (which names
    // it) is no reason to ship a second copy.
    expect(existsSync(join(assetDirOf('inbound-email'), lazyPackageFile('@aws-sdk/client-ses')))).toBe(true);
    expect(existsSync(join(assetDirOf('send-message'), lazyPackageFile('@aws-sdk/client-ses')))).toBe(false);
    expect(namesLazyPackage('var p={name:"@aws-sdk/client-ses",version:"3.1"};', '@aws-sdk/client-ses')).toBe(false);
    expect(
      namesLazyPackage('var p={name:"@aws-sdk/client-ses"};f("@aws-sdk/client-ses");', '@aws-sdk/client-ses'),
    ).toBe(true);
    const { parsePhoneNumberFromString } = createRequire(join(assetDirOf('send-message'), 'index.mjs'))(
      'libphonenumber-js',
    ) as typeof import('libphonenumber-js');
    expect(parsePhoneNumberFromString('+12025550143')?.isValid()).toBe(true);
  });

  it('ships the chat page and the agent console beside the pages bundle, where PARLEY_PAGES_DIR points', () => {
    const dir = assetDirOf('pages');
    // The pages and the shared files they include (the page loader inlines those when it loads a page).
    const shipped = ['agent.html', 'chat.html', 'common.css', 'common.js'];
    expect(readdirSync(dir).sort()).toEqual([...shipped, 'index.mjs']);
    for (const page of shipped) {
      expect(readFileSync(join(dir, page), 'utf8'), page).toBe(readFileSync(join(packageRoot, 'web', page), 'utf8'));
    }
    const pages = resources[functionLogicalId(stack, 'pages')];
    expect(pages.Properties.Environment.Variables.PARLEY_PAGES_DIR).toBe('/var/task');
    // Only the pages function carries HTML.
    for (const name of handlerNames.filter((handler) => handler !== 'pages')) {
      expect(
        readdirSync(assetDirOf(name)).filter((file) => file !== 'node_modules'),
        name,
      ).toEqual(['index.mjs']);
    }
  });
});
