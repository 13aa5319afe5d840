import { randomBytes } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Context } from 'aws-lambda';
import { WebSocket, WebSocketServer } from 'ws';
import type { WebSocketEvent, WebSocketResult } from '../functions/handlers/chat/websocket-event.ts';
import type { AwsEdges } from './edges/aws-edges.ts';
import { lambdaContext } from './lambda-context.ts';

type WsHandler = (event: WebSocketEvent, context: Context) => Promise<WebSocketResult>;

export interface WebSocketHandlers {
  connect: WsHandler;
  message: WsHandler;
  disconnect: WsHandler;
}

/** Connection ids that look like API Gateway's (base64, 12 bytes). */
const newConnectionId = () => randomBytes(12).toString('base64');

/**
 * The WebSocket API, emulated with `ws` at `/ws`: `$connect` decides the upgrade (a non-200 answer refuses it
 * with that status), frames go to `$default`, closing runs `$disconnect`, and the edges' PostToConnection reaches
 * the socket by connection id.
 */
export const attachWebSocketGateway = (
  server: Server,
  edges: AwsEdges,
  handlers: WebSocketHandlers,
  stage = 'local',
) => {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 128 * 1024 });
  const sockets = new Map<string, WebSocket>();
  const silenced = new Set<string>();

  edges.connections.setHandler(
    (id, data) => {
      const socket = sockets.get(id);
      if (!socket || socket.readyState !== WebSocket.OPEN) return false;
      socket.send(data.toString('utf8'));
      return true;
    },
    (id) => {
      const socket = sockets.get(id);
      if (!socket) return false;
      socket.close(1000, 'closed by the server');
      return true;
    },
  );

  const context = (connectionId: string, routeKey: string, eventType: string, host: string) => ({
    routeKey,
    eventType,
    connectionId,
    domainName: host,
    stage,
    requestId: randomBytes(8).toString('hex'),
    connectedAt: Date.now(),
  });

  const onUpgrade = async (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://local');
    if (url.pathname !== '/ws') {
      socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
      return;
    }
    const connectionId = newConnectionId();
    const host = req.headers.host ?? 'localhost';
    let result: WebSocketResult;
    try {
      result = await handlers.connect(
        {
          requestContext: context(connectionId, '$connect', 'CONNECT', host),
          queryStringParameters: Object.fromEntries(url.searchParams),
        },
        lambdaContext('ws-connect'),
      );
    } catch {
      result = { statusCode: 500 };
    }
    if (result.statusCode !== 200) {
      const reason = result.statusCode === 403 ? 'Forbidden' : result.statusCode === 401 ? 'Unauthorized' : 'Error';
      socket.end(`HTTP/1.1 ${result.statusCode} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.set(connectionId, ws);
      ws.on('message', (data) => {
        handlers
          .message(
            { requestContext: context(connectionId, '$default', 'MESSAGE', host), body: data.toString('utf8') },
            lambdaContext('ws-message'),
          )
          .catch((error: unknown) => console.error('[parley] chat frame failed', error));
      });
      ws.on('close', () => {
        sockets.delete(connectionId);
        if (silenced.delete(connectionId)) return;
        handlers
          .disconnect(
            { requestContext: context(connectionId, '$disconnect', 'DISCONNECT', host) },
            lambdaContext('ws-disconnect'),
          )
          .catch((error: unknown) => console.error('[parley] chat disconnect failed', error));
      });
    });
  };

  server.on('upgrade', (req, socket, head) => {
    onUpgrade(req, socket, head).catch(() => socket.destroy());
  });

  return {
    /** Drops a socket without a close handshake or `$disconnect`, as a vanished phone would. */
    dropSilently(connectionId: string) {
      const socket = sockets.get(connectionId);
      sockets.delete(connectionId);
      silenced.add(connectionId);
      socket?.terminate();
    },
    connectionIds: () => [...sockets.keys()],
    close() {
      for (const socket of sockets.values()) socket.terminate();
      wss.close();
    },
  };
};
