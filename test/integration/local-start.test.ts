import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';

// `npm start` as a user runs it (tsx local/main.ts): when it says it is ready, and what it survives.
const root = fileURLToPath(new URL('../..', import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), 'parley-local-start-'));
const localJsonPath = join(dataDir, 'local.json');
let child: ChildProcess | undefined;
let output = '';

afterAll(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Probe = { kind: 'answered'; status: number; body: string } | { kind: 'refused' } | { kind: 'hung' };

/** One request with a deadline: answered (any status), refused (nothing listening yet), or left hanging. */
const probe = (url: string, init: RequestInit = {}): Promise<Probe> =>
  fetch(url, { ...init, signal: AbortSignal.timeout(5000) }).then(
    async (response): Promise<Probe> => ({ kind: 'answered', status: response.status, body: await response.text() }),
    (error: Error): Probe => (error.name === 'TimeoutError' ? { kind: 'hung' } : { kind: 'refused' }),
  );

/** The status a WebSocket upgrade gets (101 when it opens), or -1 when the connection fails. */
const upgradeStatus = (url: string) =>
  new Promise<number>((resolve) => {
    const socket = new WebSocket(url);
    socket.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    socket.once('open', () => {
      socket.close();
      resolve(101);
    });
    socket.once('error', () => resolve(-1));
  });

/** Writes raw bytes to the gateway's port; resolves with whatever came back once the connection ends. */
const raw = (port: number, text: string, { destroyAfterWrite = false } = {}) =>
  new Promise<string>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk) => {
      answer += String(chunk);
    });
    socket.on('error', () => resolve(answer));
    socket.on('close', () => resolve(answer));
    socket.write(text, () => {
      if (destroyAfterWrite) socket.destroy();
    });
    setTimeout(() => socket.destroy(), 5000).unref();
  });

const alive = () => child !== undefined && child.exitCode === null && child.signalCode === null;

describe('npm start', () => {
  it('answers 503 (never hangs) until every route answers, and writes local.json only then', async () => {
    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    child = spawn(process.execPath, [join(root, 'node_modules/tsx/dist/cli.mjs'), 'local/main.ts'], {
      cwd: root,
      env: { ...process.env, PORT: String(port), PARLEY_DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (chunk) => {
      output += String(chunk);
    });
    child.stderr?.on('data', (chunk) => {
      output += String(chunk);
    });

    // A client that keeps asking while it starts, as one waiting for local.json might.
    const early: Promise<Probe>[] = [];
    const deadline = Date.now() + 60_000;
    while (!existsSync(localJsonPath)) {
      if (!alive()) throw new Error(`npm start exited: ${output}`);
      if (Date.now() > deadline) throw new Error(`no local.json after 60 s: ${output}`);
      early.push(probe(`${baseUrl}/openapi.json`));
      await sleep(25);
    }

    // Nothing that arrived while it started was left hanging.
    const results = await Promise.all(early);
    expect(results.filter((p) => p.kind === 'hung')).toEqual([]);

    // The moment local.json is there, every kind of route answers for real.
    const local = JSON.parse(readFileSync(localJsonPath, 'utf8'));
    const auth = { authorization: `Bearer ${local.apiKey}` };
    const now = await Promise.all([
      probe(`${baseUrl}/openapi.json`),
      probe(`${baseUrl}/v1/messages/msg_nothing_here`, { headers: auth }),
      probe(`${baseUrl}/_local/outbox`),
      probe(`${baseUrl}/_local/events`),
      probe(`${baseUrl}/`),
      probe(`${baseUrl}/_local/faults`, { method: 'POST', body: '{}' }),
    ]);
    expect(now.map((p) => (p.kind === 'answered' ? p.status : p.kind))).toEqual([200, 404, 200, 200, 200, 400]);
    expect(await upgradeStatus(`${local.wsUrl}?token=not-a-token`)).toBeOneOf([401, 403]);

    const answered = results.filter((p) => p.kind === 'answered');
    // It listened before it was ready (so a busy port fails at once), and said so to whoever asked.
    const notReady = answered.filter((p) => p.status === 503);
    expect(notReady.length).toBeGreaterThan(0);
    for (const p of notReady) {
      expect(JSON.parse(p.body)).toMatchObject({ error: { code: expect.any(String), message: expect.any(String) } });
    }
    expect(answered.every((p) => p.status === 503 || p.status === 200)).toBe(true);
  }, 120_000);

  it('survives whatever a client sends: oversized and broken frames, malformed and abandoned requests', async () => {
    const local = JSON.parse(readFileSync(localJsonPath, 'utf8'));
    const port = Number(new URL(local.baseUrl).port);
    const headers = { authorization: `Bearer ${local.apiKey}`, 'content-type': 'application/json' };
    const put = await fetch(`${local.baseUrl}/v1/customers/cust-survivor`, {
      method: 'PUT',
      headers,
      body: JSON.stringify({ phone: '+12025550399' }),
    });
    expect(put.status).toBeLessThan(300);
    const session = await fetch(`${local.baseUrl}/v1/customers/cust-survivor/chat-sessions`, {
      method: 'POST',
      headers,
      body: '{}',
    });
    const { url } = (await session.json()) as { url: string };
    const token = url.split('#')[1] ?? '';
    const chatUrl = `${local.wsUrl}?token=${encodeURIComponent(token)}`;

    const chat = async () => {
      const socket = new WebSocket(chatUrl);
      const frames: string[] = [];
      socket.on('message', (data) => frames.push(String(data)));
      socket.on('error', () => undefined);
      const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
      await new Promise<void>((resolve, reject) => {
        socket.once('open', () => resolve());
        socket.once('unexpected-response', (_req, res) => reject(new Error(`refused ${res.statusCode}`)));
        socket.once('close', (code) => reject(new Error(`closed ${code} before opening; npm start said: ${output}`)));
      });
      return { socket, frames, closed };
    };

    const huge = await chat();
    huge.socket.send('x'.repeat(200 * 1024));
    expect(await huge.closed).toBe(1009);

    const bigFrame = await chat();
    bigFrame.socket.send(JSON.stringify({ type: 'message', body: 'x'.repeat(40 * 1024) }));
    expect(await bigFrame.closed).toBe(1009);

    const broken = await chat();
    broken.socket.send(Buffer.from([0x7b, 0xc3, 0x28, 0x7d]), { binary: false });
    expect(await broken.closed).toBe(1007);

    // A binary frame reaches $default (which answers that it wants JSON text), and the connection stays open.
    const binary = await chat();
    binary.socket.send(Buffer.from(JSON.stringify({ type: 'history' })), { binary: true });
    await expect.poll(() => binary.frames.length, { timeout: 10_000 }).toBeGreaterThan(0);
    expect(JSON.parse(binary.frames[0] as string)).toMatchObject({ type: 'error' });
    expect(binary.socket.readyState).toBe(WebSocket.OPEN);
    binary.socket.close();

    // An upgrade whose client is gone before $connect has answered; a request abandoned halfway through its body.
    await raw(
      port,
      `GET /ws?token=${encodeURIComponent(token)} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
      { destroyAfterWrite: true },
    );
    await raw(
      port,
      `POST /v1/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${local.apiKey}\r\n` +
        'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"customerId"',
      { destroyAfterWrite: true },
    );
    expect(await raw(port, 'GET //[ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).toMatch(/^HTTP\/1\.1 400 /);
    expect(await raw(port, '\u0000\u0001 garbage\r\n\r\n')).toMatch(/^HTTP\/1\.1 400 /);
    const tooBig = await fetch(`${local.baseUrl}/v1/messages`, {
      method: 'POST',
      headers,
      body: 'x'.repeat(10 * 1024 * 1024 + 1),
    });
    expect(tooBig.status).toBe(413);

    await sleep(200);
    expect(alive(), output).toBe(true);
    expect((await fetch(`${local.baseUrl}/openapi.json`)).status).toBe(200);
    expect(await upgradeStatus(chatUrl)).toBe(101);

    child?.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => {
      if (!alive()) resolve(child?.exitCode ?? null);
      child?.once('exit', (exitCode) => resolve(exitCode));
    });
    expect(code).toBe(0);
  });
});
