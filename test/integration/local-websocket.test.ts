import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiGatewayManagementApiClient, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { WebSocketEvent } from '../../functions/handlers/chat/websocket-event.ts';
import { type AwsEdges, startAwsEdges } from '../../local/edges/aws-edges.ts';
import { attachWebSocketGateway } from '../../local/websocket-gateway.ts';

// The WebSocket API emulation on its own, with recording handlers in place of the chat functions: what API
// Gateway would hand `$default`, and how it treats frames and messages over its limits.
let edges: AwsEdges;
let server: Server;
let gateway: ReturnType<typeof attachWebSocketGateway>;
let url: string;
const events: WebSocketEvent[] = [];

beforeAll(async () => {
  edges = await startAwsEdges();
  server = createServer((_req, res) => res.writeHead(404).end());
  const record = async (event: WebSocketEvent) => {
    events.push(event);
    return { statusCode: 200 };
  };
  gateway = attachWebSocketGateway(server, edges, { connect: record, message: record, disconnect: record });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws`;
});

afterAll(async () => {
  gateway.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await edges.close();
});

beforeEach(() => {
  events.length = 0;
});

const KB = 1024;
const routed = (routeKey: string) => events.filter((e) => e.requestContext.routeKey === routeKey);

const open = async () => {
  const socket = new WebSocket(url);
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.once('close', (code, reason) => resolve({ code, reason: String(reason) })),
  );
  socket.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  const connectionId = routed('$connect').at(-1)?.requestContext.connectionId as string;
  return { socket, closed, connectionId };
};

/** Sends one message as frames of the given sizes. */
const sendFrames = (socket: WebSocket, sizes: number[], binary = false) => {
  sizes.forEach((size, i) => {
    socket.send(Buffer.alloc(size, 'a'), { binary, fin: i === sizes.length - 1 });
  });
};

describe('the local WebSocket API', () => {
  it('hands a text frame to $default as text and a binary one base64 with isBase64Encoded', async () => {
    const { socket, connectionId } = await open();
    socket.send('{"type":"history"}');
    socket.send(Buffer.from([0x00, 0xff, 0x10, 0x80]), { binary: true });
    await expect.poll(() => routed('$default').length).toBe(2);
    const [text, binary] = routed('$default');
    expect(text).toMatchObject({ body: '{"type":"history"}', isBase64Encoded: false });
    expect(binary).toMatchObject({ body: 'AP8QgA==', isBase64Encoded: true });
    expect(binary?.requestContext).toMatchObject({ routeKey: '$default', connectionId, eventType: 'MESSAGE' });
    socket.close();
  });

  it('takes a 32 KB frame and a 128 KB message sent as 32 KB frames', async () => {
    const { socket, closed } = await open();
    sendFrames(socket, [32 * KB]);
    sendFrames(socket, [32 * KB, 32 * KB, 32 * KB, 32 * KB], true);
    await expect.poll(() => routed('$default').length).toBe(2);
    expect(
      routed('$default').map((e) => (e.isBase64Encoded ? Buffer.from(e.body ?? '', 'base64') : e.body)?.length),
    ).toEqual([32 * KB, 128 * KB]);
    socket.close();
    expect((await closed).code).toBe(1005);
  });

  it('closes with 1009 on a frame over 32 KB, never routing it, and runs $disconnect', async () => {
    const { socket, closed, connectionId } = await open();
    sendFrames(socket, [32 * KB + 1]);
    expect(await closed).toMatchObject({ code: 1009 });
    await expect.poll(() => routed('$disconnect').map((e) => e.requestContext.connectionId)).toEqual([connectionId]);
    expect(routed('$default')).toEqual([]);
  });

  it('closes with 1009 on a message over 128 KB, even in frames within the limit', async () => {
    const { socket, closed } = await open();
    sendFrames(socket, [32 * KB, 32 * KB, 32 * KB, 32 * KB, 1]);
    expect((await closed).code).toBe(1009);
    expect(routed('$default')).toEqual([]);
  });

  it('closes with 1009 on one 200 KB frame (what used to end the process)', async () => {
    const { socket, closed } = await open();
    socket.send('x'.repeat(200 * KB));
    expect((await closed).code).toBe(1009);
    expect(routed('$default')).toEqual([]);
  });

  it('closes with 1007 on a text frame that is not UTF-8', async () => {
    const { socket, closed } = await open();
    socket.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
    expect((await closed).code).toBe(1007);
    expect(routed('$default')).toEqual([]);
  });

  it('keeps serving after all of that: PostToConnection reaches a new connection', async () => {
    const { socket, connectionId } = await open();
    const received = new Promise<string>((resolve) => socket.once('message', (data) => resolve(String(data))));
    const client = new ApiGatewayManagementApiClient({
      region: 'us-east-1',
      endpoint: edges.url,
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      maxAttempts: 1,
    });
    try {
      await client.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: '{"type":"ping"}' }));
      expect(await received).toBe('{"type":"ping"}');
      const tooBig = await client
        .send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.alloc(128 * KB + 1) }))
        .catch((error: unknown) => error);
      expect(tooBig).toMatchObject({ name: 'PayloadTooLargeException', $metadata: { httpStatusCode: 413 } });
    } finally {
      client.destroy();
      socket.close();
    }
  });
});
