import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient, GetItemCommand, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTable } from '../../local/dynamo-local.ts';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const cliPath = join(repoRoot, 'bin', 'parley-cli.mjs');
const dynalitePath = createRequire(import.meta.url).resolve('dynalite/cli.js');
const tableName = 'parley-cli-test';

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The environment without any AWS settings of the machine running the tests. */
const cleanEnv = (): NodeJS.ProcessEnv =>
  Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_') && name !== 'PARLEY_DEBUG'),
  );

const noAwsConfig = {
  AWS_CONFIG_FILE: join(tmpdir(), 'parley-cli-test-no-aws-config'),
  AWS_SHARED_CREDENTIALS_FILE: join(tmpdir(), 'parley-cli-test-no-aws-credentials'),
  AWS_EC2_METADATA_DISABLED: 'true',
};

const runCli = (args: string[], dataDir: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<CliResult> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], {
      cwd: repoRoot,
      env: {
        ...cleanEnv(),
        ...noAwsConfig,
        PARLEY_DATA_DIR: dataDir,
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        ...extraEnv,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject()));
    });
  });

const stackFrame = /^\s+at /m;
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('parley CLI', () => {
  let dynalite: ChildProcess;
  let endpoint: string;
  let client: DynamoDBClient;
  let localDir: string;
  let emptyDir: string;
  let staleDir: string;

  const cli = (...args: string[]) => runCli(args, localDir);
  const getItem = async (pk: string, sk: string) =>
    (await client.send(new GetItemCommand({ TableName: tableName, Key: { pk: { S: pk }, sk: { S: sk } } }))).Item;

  beforeAll(async () => {
    const port = await freePort();
    endpoint = `http://127.0.0.1:${port}`;
    dynalite = spawn(
      process.execPath,
      [dynalitePath, '--port', String(port), '--host', '127.0.0.1', '--createTableMs', '0'],
      { stdio: 'ignore' },
    );
    client = new DynamoDBClient({
      endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    });
    for (let attempt = 0; ; attempt++) {
      try {
        await client.send(new ListTablesCommand({}));
        break;
      } catch (error) {
        if (attempt >= 100 || dynalite.exitCode !== null) throw error;
        await new Promise((r) => setTimeout(r, 100));
      }
    }

    // The same table the local gateway creates (local/dynamo-local.ts), from the same schema as the CDK's.
    await ensureTable(client, tableName);

    localDir = mkdtempSync(join(tmpdir(), 'parley-cli-local-'));
    writeFileSync(join(localDir, 'local.json'), JSON.stringify({ dynamodbEndpoint: endpoint, tableName }));
    emptyDir = mkdtempSync(join(tmpdir(), 'parley-cli-empty-'));
    staleDir = mkdtempSync(join(tmpdir(), 'parley-cli-stale-'));
    // A gateway that is not running any more: nothing listens on its port.
    writeFileSync(
      join(staleDir, 'local.json'),
      JSON.stringify({ dynamodbEndpoint: `http://127.0.0.1:${await freePort()}`, tableName }),
    );
  });

  afterAll(async () => {
    client?.destroy();
    if (dynalite && dynalite.exitCode === null) {
      const exited = new Promise((resolve) => dynalite.once('exit', resolve));
      dynalite.kill('SIGTERM');
      await exited;
    }
    for (const dir of [localDir, emptyDir, staleDir]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('prints its usage with --help', async () => {
    const { code, stdout, stderr } = await cli('--help');
    expect(code).toBe(0);
    expect(stderr).toBe('');
    for (const command of ['tenant create', 'tenant list', 'key create', 'key revoke']) {
      expect(stdout).toContain(`parley ${command}`);
    }
    expect(stdout).toContain('--table <name>');
  });

  it('creates a tenant and lists it, as a table and as JSON', async () => {
    const created = await cli(
      'tenant',
      'create',
      'acme-bank',
      '--name',
      'Acme Bank',
      '--sms-number',
      '+12025550143',
      '--email-from',
      'alerts@acme.example',
      '--help-text',
      'Acme Bank alerts. Help: 555-0100. Reply STOP to opt out.',
    );
    expect(created).toMatchObject({ code: 0, stderr: '' });
    expect(created.stdout).toContain('acme-bank');

    const [table, json] = await Promise.all([cli('tenant', 'list'), cli('tenant', 'list', '--json')]);
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^TENANT ID\s+NAME\s+SMS NUMBER\s+EMAIL FROM$/);
    expect(lines).toContainEqual(
      expect.stringMatching(/^acme-bank\s+Acme Bank\s+\+12025550143\s+alerts@acme\.example$/),
    );

    expect(json.code).toBe(0);
    const tenants = JSON.parse(json.stdout) as Array<Record<string, unknown>>;
    expect(tenants).toEqual([
      {
        tenantId: 'acme-bank',
        name: 'Acme Bank',
        smsNumber: '+12025550143',
        emailFrom: 'alerts@acme.example',
        helpText: 'Acme Bank alerts. Help: 555-0100. Reply STOP to opt out.',
        createdAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
      },
    ]);
  });

  it('refuses an existing tenant id and an SMS number another tenant uses', async () => {
    const [sameId, sameNumber] = await Promise.all([
      cli('tenant', 'create', 'acme-bank', '--name', 'Other', '--sms-number', '+12025550144'),
      cli('tenant', 'create', 'other-bank', '--name', 'Other', '--sms-number', '+12025550143'),
    ]);
    expect(sameId.code).toBe(1);
    expect(sameId.stderr).toMatch(/^parley: tenant 'acme-bank' already exists\n$/);
    expect(sameNumber.code).toBe(1);
    expect(sameNumber.stderr).toMatch(/^parley: SMS number \+12025550143 is already used by another tenant\n$/);

    const acme = await getItem('TENANT#acme-bank', 'TENANT');
    expect(acme?.name?.S).toBe('Acme Bank');
    expect(await getItem('TENANT#other-bank', 'TENANT')).toBeUndefined();
    expect((await getItem('SMSNUMBER#+12025550144', 'SMSNUMBER'))?.tenantId).toBeUndefined();
  });

  it('creates a key that is stored only as its hash, then revokes it', async () => {
    const created = await cli('key', 'create', 'acme-bank', '--scopes', 'read,send', '--json');
    expect(created).toMatchObject({ code: 0, stderr: '' });
    const { keyId, apiKey } = JSON.parse(created.stdout) as { keyId: string; apiKey: string };
    expect(Object.keys(JSON.parse(created.stdout))).toEqual(['keyId', 'apiKey']);
    expect(apiKey.startsWith(`prl_${keyId}_`)).toBe(true);

    const item = await getItem(`APIKEY#${keyId}`, 'APIKEY');
    expect(item?.keyHash?.S).toBe(sha256(apiKey));
    expect(item?.tenantId?.S).toBe('acme-bank');
    expect(item?.scopes?.L?.map((scope) => scope.S)).toEqual(['send', 'read']);
    const stored = JSON.stringify(item);
    const secret = apiKey.slice(`prl_${keyId}_`.length);
    expect(stored).not.toContain(apiKey);
    expect(stored).not.toContain(secret);
    expect(item?.revokedAt).toBeUndefined();

    const revoked = await cli('key', 'revoke', keyId);
    expect(revoked).toMatchObject({ code: 0, stderr: '' });
    expect(revoked.stdout).toContain(`Revoked API key ${keyId}`);
    expect(revoked.stdout).toMatch(/at once/);
    expect((await getItem(`APIKEY#${keyId}`, 'APIKEY'))?.revokedAt?.S).toMatch(/^\d{4}-\d{2}-\d{2}T.*Z$/);
  });

  it('creates an admin key that expires, and lists keys without the key or its hash', async () => {
    const before = Date.now();
    const created = await cli(
      'key',
      'create',
      'acme-bank',
      '--scopes',
      'admin,read',
      '--expires-in-days',
      '30',
      '--json',
    );
    expect(created).toMatchObject({ code: 0, stderr: '' });
    const { keyId, apiKey, expiresAt } = JSON.parse(created.stdout) as Record<string, string>;
    const days = (Date.parse(expiresAt as string) - before) / 86_400_000;
    expect(days).toBeGreaterThan(29.99);
    expect(days).toBeLessThan(30.01);
    const item = await getItem(`APIKEY#${keyId}`, 'APIKEY');
    expect(item?.scopes?.L?.map((scope) => scope.S)).toEqual(['read', 'admin']);
    // Not the table's TTL attribute: an expired key stays on record, listed as expired.
    expect(item?.expiresAt).toBeUndefined();
    expect(item?.keyExpiresAt?.S).toBe(expiresAt);

    const listed = await cli('key', 'list', 'acme-bank', '--json');
    expect(listed).toMatchObject({ code: 0, stderr: '' });
    const keys = JSON.parse(listed.stdout) as Record<string, unknown>[];
    expect(keys).toContainEqual({
      keyId,
      scopes: ['read', 'admin'],
      createdAt: expect.any(String),
      expiresAt,
      status: 'active',
    });
    expect(keys.some((key) => key.status === 'revoked')).toBe(true);
    expect(listed.stdout).not.toContain(apiKey);
    expect(listed.stdout).not.toContain(item?.keyHash?.S);

    const table = await cli('key', 'list', 'acme-bank');
    expect(table.stdout.split('\n')[0]).toMatch(/^KEY ID\s+SCOPES\s+CREATED\s+LAST USED\s+EXPIRES\s+STATUS$/);
    expect(table.stdout).toMatch(
      new RegExp(`^${keyId}\\s+read,admin\\s+\\S+\\s+never\\s+${expiresAt}\\s+active$`, 'm'),
    );
    expect(table.stdout).not.toContain(apiKey);

    const unknown = await cli('key', 'list', 'no-such-bank');
    expect(unknown).toMatchObject({ code: 1, stderr: "parley: tenant 'no-such-bank' not found\n" });
  });

  it('prints a key once, with a warning, in its human form', async () => {
    const { code, stdout } = await cli('key', 'create', 'acme-bank', '--scopes', 'agent');
    expect(code).toBe(0);
    const apiKey = /\b(prl_[0-9a-z]{12}_\S+)/.exec(stdout)?.[1];
    expect(apiKey).toBeDefined();
    expect(stdout.split(apiKey as string)).toHaveLength(2);
    expect(stdout).toMatch(/cannot be shown again/);
  });

  it('fails with exit 1 on an unknown key or tenant', async () => {
    const [unknownKey, unknownTenant] = await Promise.all([
      cli('key', 'revoke', 'zzzzzzzzzzzz'),
      cli('key', 'create', 'no-such-bank', '--scopes', 'send'),
    ]);
    expect(unknownKey).toMatchObject({ code: 1, stdout: '' });
    expect(unknownKey.stderr).toBe("parley: API key 'zzzzzzzzzzzz' not found\n");
    expect(unknownTenant).toMatchObject({ code: 1, stdout: '' });
    expect(unknownTenant.stderr).toBe("parley: tenant 'no-such-bank' not found\n");
  });

  it('rejects bad arguments with exit 2, one error line and the usage', async () => {
    const cases: Array<{ args: string[]; error: RegExp; usage: string }> = [
      { args: ['launch'], error: /unknown command 'launch'/, usage: 'parley tenant create' },
      {
        args: ['tenant', 'create', '--name', 'X', '--sms-number', '+12025550145'],
        error: /missing <tenantId>/,
        usage: 'parley tenant create',
      },
      {
        args: ['tenant', 'create', 'beta', '--name', 'Beta', '--sms-number', '2025550145'],
        error: /invalid --sms-number/,
        usage: 'parley tenant create',
      },
      {
        args: ['tenant', 'create', 'Beta_Bank', '--name', 'Beta', '--sms-number', '+12025550145'],
        error: /invalid tenant id/,
        usage: 'parley tenant create',
      },
      {
        args: ['tenant', 'create', 'beta', '--name', 'Beta', '--sms-number', '+12025550145', '--email-from', 'beta@'],
        error: /invalid --email-from/,
        usage: 'parley tenant create',
      },
      {
        args: ['key', 'create', 'acme-bank', '--scopes', 'send,owner'],
        error: /unknown scope 'owner'/,
        usage: 'parley key create',
      },
      {
        args: ['key', 'create', 'acme-bank', '--scopes', 'send', '--expires-in-days', '0'],
        error: /invalid --expires-in-days '0'/,
        usage: 'parley key create',
      },
      {
        args: ['key', 'create', 'acme-bank', '--scopes', 'send', '--expires-in-days', '1.5'],
        error: /invalid --expires-in-days/,
        usage: 'parley key create',
      },
      {
        args: ['key', 'list'],
        error: /missing <tenantId>/,
        usage: 'parley key list',
      },
      {
        args: ['key', 'create', 'acme-bank', '--scopes', ''],
        error: /--scopes needs at least one/,
        usage: 'parley key create',
      },
      { args: ['tenant', 'list', '--verbose'], error: /unknown option '--verbose'/, usage: 'parley tenant list' },
    ];
    const results = await Promise.all(cases.map((c) => cli(...c.args)));
    results.forEach((result, i) => {
      const { args, error, usage } = cases[i] as (typeof cases)[number];
      const label = `parley ${args.join(' ')}`;
      expect(result.code, label).toBe(2);
      expect(result.stdout, label).toBe('');
      const [first, second] = result.stderr.split('\n');
      expect(first, label).toMatch(/^parley: /);
      expect(first, label).toMatch(error);
      expect(second?.startsWith(`usage: ${usage}`), label).toBe(true);
      expect(result.stderr, label).not.toMatch(stackFrame);
    });
    expect(await getItem('TENANT#beta', 'TENANT')).toBeUndefined();
  });

  it('works on a table named by --table at an --endpoint, with the caller’s AWS credentials', async () => {
    const awsEnv = { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1' };
    const target = ['--table', tableName, '--endpoint', endpoint];
    const listed = await runCli(['tenant', 'list', '--json', ...target], emptyDir, awsEnv);
    expect(listed).toMatchObject({ code: 0, stderr: '' });
    expect((JSON.parse(listed.stdout) as Array<{ tenantId: string }>).map((t) => t.tenantId)).toEqual(['acme-bank']);

    const created = await runCli(
      ['key', 'create', 'acme-bank', '--scopes', 'send', '--json', ...target],
      emptyDir,
      awsEnv,
    );
    expect(created.code).toBe(0);
    const { keyId } = JSON.parse(created.stdout) as { keyId: string };
    // --table wins over a local gateway's local.json.
    const revoked = await runCli(['key', 'revoke', keyId, ...target], localDir, awsEnv);
    expect(revoked).toMatchObject({ code: 0, stderr: '' });
    expect(revoked.stdout).toMatch(/On AWS it may keep working .* up to 5 minutes/);
  });

  it('explains what is missing: AWS credentials, a target, a running gateway', async () => {
    const [noCredentials, noTarget, stale] = await Promise.all([
      runCli(['tenant', 'list', '--table', tableName, '--endpoint', endpoint, '--region', 'us-east-1'], emptyDir),
      runCli(['tenant', 'list'], emptyDir),
      runCli(['tenant', 'list'], staleDir),
    ]);
    expect(noCredentials.code).toBe(1);
    expect(noCredentials.stderr).toMatch(/^parley: no AWS credentials found/);
    expect(noTarget.code).toBe(2);
    expect(noTarget.stderr).toMatch(/^parley: no table to work on: pass --table <name>.*npm start/);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toMatch(/^parley: cannot reach DynamoDB at http:\/\/127\.0\.0\.1:\d+ .*npm start/);
    for (const result of [noCredentials, noTarget, stale]) {
      expect(result.stderr).not.toMatch(stackFrame);
      expect(result.stderr.trimEnd().split('\n').length).toBeLessThanOrEqual(2);
    }
  });
});
