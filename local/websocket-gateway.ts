import { randomBytes } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Context } from 'aws-lambda';
import { WebSocket, WebSocketServer } from 'ws';
import type { WebSocketEvent, WebSocketResult } from '../functions/handlers/chat/websocket-event.ts';
import type { AwsEdges } from './edges/aws-edges.ts';
import { lambdaContext } from './lambda-context.ts';
import { watchFrameSizes } from './ws-frames.ts';

type WsHandler = (event: WebSocketEvent, context: Context) => Promise<WebSocketResult>;

export interface WebSocketHandlers {
  connect: WsHandler;
  message: WsHandler;
  disconnect: WsHandler;
}

/** Connection ids that look like API Gateway's (base64, 12 bytes). */
const newConnectionId = () => randomBytes(12).toString('base64');

/** API Gateway WebSocket limits: a frame is at most 32 KB, a message at most 128 KB; over either it closes 1009. */
export const maxFrameBytes = 32 * 1024;
export const maxMessageBytes = 128 * 1024;

/**
 * The WebSocket API, emulated with `ws` at `/ws`: `$connect` decides the upgrade (a non-200 answer refuses it
 * with that status), frames go to `$default` (binary ones base64 with `isBase64Encoded`), closing runs
 * `$disconnect`, and the edges' PostToConnection reaches the socket by connection id. It holds API Gateway's
 * limits: a frame over 32 KB or a message over 128 KB closes the connection with 1009, text that is not UTF-8
 * with 1007. `handleUpgrade` serves one upgrade request; `attachWebSocketGateway` wires it to a server.
 */
export const createWebSocketGateway = (edges: AwsEdges, handlers: WebSocketHandlers, stage = 'local') => {
  const wss = new WebSocketServer({ noServer: true, maxPayload: maxMessageBytes });
  wss.on('error', (error) => console.error('[parley] websocket server error', error.message));
  const sockets = new Map<string, WebSocket>();
  const silenced = new Set<string>();

  edges.connections.setHandler(
    (id, data) => {
      const socket = sockets.get(id);
      if (!socket || socket.readyState !== WebSocket.OPEN) return false;
      socket.send(data.toString('utf8'), (error) => {
        if (error) console.error('[parley] chat push failed', error.message);
      });
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
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://local');
    } catch {
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
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
    if (socket.destroyed) return; // the client left while $connect ran
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.set(connectionId, ws);
      let refused = false;
      // A frame or message over the limits, or text that is not UTF-8: `ws` closes with 1009 / 1007 and reports
      // it here. Without a listener the error would end the whole process.
      ws.on('error', (error) => {
        refused = true;
        console.warn(`[parley] chat connection closed: ${error.message}`);
      });
      watchFrameSizes(socket, maxFrameBytes, () => {
        refused = true;
        ws.close(1009, 'Message too big');
      });
      ws.on('message', (data, isBinary) => {
        if (refused) return;
        const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
        handlers
          .message(
            {
              requestContext: context(connectionId, '$default', 'MESSAGE', host),
              body: isBinary ? bytes.toString('base64') : bytes.toString('utf8'),
              isBase64Encoded: isBinary,
            },
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

  return {
    /** Serves one upgrade request of the HTTP server (the socket's errors are handled here). */
    handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer) {
      if (socket.listenerCount('error') === 0) socket.on('error', () => socket.destroy());
      onUpgrade(req, socket, head).catch(() => socket.destroy());
    },
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

/** The gateway of `createWebSocketGateway`, serving every upgrade request of `server`. */
export const attachWebSocketGateway = (
  server: Server,
  edges: AwsEdges,
  handlers: WebSocketHandlers,
  stage = 'local',
) => {
  const gateway = createWebSocketGateway(edges, handlers, stage);
  server.on('upgrade', (req, socket, head) => gateway.handleUpgrade(req, socket, head));
  return gateway;
};
