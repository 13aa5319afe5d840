/** Part 4 helper: the local gateway exactly as `npm start` runs it, on a free port with the data dir it is given. */
import { startLocalGateway } from '../local/gateway.ts';
import { childMain } from './lib/child.ts';

const dataDir = process.argv[2];
if (!dataDir) throw new Error('usage: gateway-server.ts <dataDir>');

childMain(
  async (defer) => {
    const gateway = await startLocalGateway({ port: 0, dataDir, logLevel: 'WARN' });
    defer(() => gateway.close());
    return { baseUrl: gateway.baseUrl, apiKey: gateway.apiKey };
  },
  { keepAlive: true },
);
