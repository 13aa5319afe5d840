/**
 * Part 4 helper: a bare Node HTTP server that, for each POST, makes the same SDK calls an accepted send makes
 * (bench/lib/raw-send.ts) with no validation, templates or middleware, against its own dynalite (on disk) and
 * edges in this process: the same process layout as the local gateway.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { demoTenant } from '../local/demo.ts';
import { childMain } from './lib/child.ts';
import { eventBusName, handlerEnv, startBenchStack, tableName, tenantId } from './lib/local-stack.ts';
import { benchSmsText, RawSender } from './lib/raw-send.ts';

const dataDir = process.argv[2];
if (!dataDir) throw new Error('usage: bare-server.ts <dataDir>');

interface Body {
  customerId: string;
  to: { phone: string; email: string };
  reference: string;
}

childMain(
  async (defer) => {
    const stack = await startBenchStack({ dataDir });
    defer(() => stack.close());
    Object.assign(process.env, handlerEnv({ dynamodb: stack.dynamoEndpoint, edges: stack.edges.url }));
    const raw = new RawSender(tableName, eventBusName);
    defer(() => raw.destroy());

    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Body;
        raw
          .send({
            tenantId,
            customerId: body.customerId,
            phone: body.to.phone,
            email: body.to.email,
            from: demoTenant.smsNumber,
            body: benchSmsText,
            reference: body.reference,
          })
          .then(
            ({ messageId }) => {
              res.writeHead(202, { 'content-type': 'application/json' });
              res.end(JSON.stringify({ messageId, customerId: body.customerId, channel: 'sms', status: 'sent' }));
            },
            (error: unknown) => {
              console.error('[bare-server] send failed:', error);
              res.writeHead(500, { 'content-type': 'application/json' });
              res.end('{"error":{"code":"internal"}}');
            },
          );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    defer(
      () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    );
    const { port } = server.address() as AddressInfo;
    return { baseUrl: `http://127.0.0.1:${port}` };
  },
  { keepAlive: true },
);
