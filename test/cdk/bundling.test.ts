import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, describe, expect, it } from 'vitest';
import { createGatewayApp, functionLogicalId, handlerNames } from './gateway-app.ts';

const outdir = mkdtempSync(join(tmpdir(), 'parley-cdk-bundle-'));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

describe('function bundles', () => {
  // The one test that runs esbuild on the real functions/handlers/*.ts.
  it('builds one ESM bundle per handler with local esbuild', () => {
    const { app, stack } = createGatewayApp({ bundle: true, appProps: { outdir } });
    const assembly = app.synth();
    const template = Template.fromStack(stack).toJSON();

    for (const name of handlerNames) {
      const code = template.Resources[functionLogicalId(stack, name)].Properties.Code;
      const assetHash = String(code.S3Key).replace(/\.zip$/, '');
      const bundle = join(assembly.directory, `asset.${assetHash}`, 'index.mjs');
      expect(existsSync(bundle), `${name}: ${bundle}`).toBe(true);
      const source = readFileSync(bundle, 'utf8');
      expect(source.startsWith("import { createRequire } from 'module';"), name).toBe(true);
      expect(source, name).toMatch(/export\s*\{[^}]*\bas handler\b[^}]*\}|export\s*\{[^}]*\bhandler\b[^}]*\}/);
      expect(source, `${name} must not be CommonJS`).not.toMatch(/\bmodule\.exports\s*=/);
    }
  });
});
