/**
 * Part 4 helper: the local gateway as `npm start` runs it, on a free port with the data dir it is given. With
 * `PARLEY_BENCH_SEND_PATH_ONLY=1` (how part 4 measures) the emulated providers' delivery reports and the webhook
 * dispatcher are off: on AWS they run in functions of their own, and the bare server they are compared with does
 * only a send's calls. Without it, the figure is the whole local runtime's, everything sharing the two cores.
 */
import { startLocalGateway } from '../local/gateway.ts';
import { childMain } from './lib/child.ts';

const dataDir = process.argv[2];
if (!dataDir) throw new Error('usage: gateway-server.ts <dataDir>');

childMain(
  async (defer) => {
    const sendPathOnly = process.env.PARLEY_BENCH_SEND_PATH_ONLY === '1';
    const gateway = await startLocalGateway({
      port: 0,
      dataDir,
      logLevel: 'WARN',
      ...(sendPathOnly && { deliveryReports: false, webhooks: false }),
    });
    defer(() => gateway.close());
    return { baseUrl: gateway.baseUrl, apiKey: gateway.apiKey };
  },
  { keepAlive: true },
);
