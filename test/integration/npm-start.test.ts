import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), 'parley-start-'));
const children: ChildProcess[] = [];

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

/** `npm start` as a user runs it (tsx local/main.ts), with PORT and PARLEY_DATA_DIR. */
const start = (port: number) => {
  const child = spawn(process.execPath, [join(root, 'node_modules/tsx/dist/cli.mjs'), 'local/main.ts'], {
    cwd: root,
    env: { ...process.env, PORT: String(port), PARLEY_DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += String(chunk);
  });
  child.stderr?.on('data', (chunk) => {
    output += String(chunk);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (output.includes('Press Ctrl-C to stop.')) {
        clearInterval(timer);
        resolve();
      }
    }, 50);
    exited.then(() => {
      clearInterval(timer);
      reject(new Error(`exited before ready: ${output}`));
    });
  });
  // A start that is meant to fail never becomes ready: that is not an unhandled error.
  ready.catch(() => undefined);
  return { child, ready, exited, output: () => output };
};

afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

describe('npm start', () => {
  it('serves the demo, stops cleanly on Ctrl-C, keeps its data and keys across a restart, and refuses a busy port', async () => {
    const port = await freePort();
    const first = start(port);
    await first.ready;
    const local = JSON.parse(readFileSync(join(dataDir, 'local.json'), 'utf8'));
    expect(local).toMatchObject({ baseUrl: `http://127.0.0.1:${port}`, tenantId: 'demo-bank' });
    const sent = await fetch(`${local.baseUrl}/v1/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${local.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ customerId: 'cust-restart', to: { phone: '+12025550177' }, body: { sms: 'kept' } }),
    });
    expect(sent.status).toBe(202);
    const { messageId } = (await sent.json()) as { messageId: string };

    // A second start on the same port says so and exits, touching nothing.
    const busy = start(port);
    expect(await busy.exited).toBe(1);
    expect(busy.output()).toContain(`Port ${port} is already in use`);

    first.child.kill('SIGINT');
    expect(await first.exited).toBe(0);

    const second = start(port);
    await second.ready;
    const again = JSON.parse(readFileSync(join(dataDir, 'local.json'), 'utf8'));
    expect(again.apiKey).toBe(local.apiKey);
    const stored = await fetch(`${again.baseUrl}/v1/messages/${messageId}`, {
      headers: { authorization: `Bearer ${again.apiKey}` },
    });
    expect(stored.status).toBe(200);
    expect(((await stored.json()) as { body: string }).body).toBe('kept');
    const outbox = (await (await fetch(`${again.baseUrl}/_local/outbox?to=%2B12025550177`)).json()) as unknown[];
    expect(outbox).toHaveLength(1);
    second.child.kill('SIGINT');
    expect(await second.exited).toBe(0);
  });
});
