import * as envNames from '../functions/config/env-names.ts';

// Before any SDK module loads: the SDK warns about Node 20 at import time.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const { PortInUseError, startLocalGateway } = await import('./gateway.ts');

/** `npm start`: the whole gateway on this machine. */
const main = async () => {
  const started = Date.now();
  const port = process.env.PORT ? Number(process.env.PORT) : 3000;
  const gateway = await startLocalGateway({
    port,
    // PARLEY_DEMO_WEBHOOKS=1: the demo backend hears its events by signed webhook, verified before it acts.
    ...(process.env[envNames.demoWebhooks] === '1' && { demoBackend: 'webhooks' as const }),
    ...(process.env[envNames.dataDir] && { dataDir: process.env[envNames.dataDir] }),
  });
  console.log(`
Parley is running locally (${Date.now() - started} ms)

  Console        ${gateway.baseUrl}/        (play the customer: SMS, email, chat links, events)
  Agent console  ${gateway.baseUrl}/agent   (sign in with the agent key)
  API            ${gateway.baseUrl}/v1   (OpenAPI: ${gateway.baseUrl}/openapi.json)
  WebSocket      ${gateway.wsUrl}
  Outbox         ${gateway.baseUrl}/_local/outbox
  Events         ${gateway.baseUrl}/_local/events
  Demo tenant    ${gateway.tenantId} (SMS number ${gateway.smsNumber})
  API key        ${gateway.apiKey}
  Agent key      ${gateway.agentKey}
  Data           ${gateway.dataDir} (local.json has all of the above)

Press Ctrl-C to stop.`);

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    console.log('\nStopping Parley...');
    await gateway.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
};

main().catch((error: unknown) => {
  if (error instanceof PortInUseError) {
    console.error(`parley: ${error.message}`);
  } else {
    console.error('parley: failed to start', error);
  }
  process.exit(1);
});
