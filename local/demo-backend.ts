import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import type { AwsEdges, CapturedEvent } from './edges/aws-edges.ts';

/** The path of the demo backend's webhook receiver: its endpoints from an earlier run are found by it. */
const receiverPath = '/parley-demo-backend/webhooks';

export interface DemoBackend {
  /** Called once the gateway answers: registers the webhook in webhook mode. */
  afterReady(): Promise<void>;
  stop(): Promise<void>;
  /** An alert sent with `verify: "code"`: its answer counts only with a verification. */
  expectVerification(reference: string): void;
}

/**
 * A stand-in for the bank's own backend: it listens to Parley's events and answers through the public send API,
 * as a real backend would. BAL gets a balance text; a card alert answered N blocks the card, Y confirms it.
 *
 * It hears the events from the emulated EventBridge by default; with `webhooks`, from a signed webhook instead: it
 * runs a receiver on 127.0.0.1, registers it through `POST /v1/webhooks` once the gateway is up, and verifies each
 * delivery with the Standard Webhooks library before acting on it (an unverified one is answered 401 and ignored).
 */
export const startDemoBackend = (options: {
  edges: AwsEdges;
  baseUrl: string;
  apiKey: string;
  tenantId: string;
  webhooks?: boolean;
}): DemoBackend => {
  /** The references of alerts it sent with `verify: "code"`, as a bank's backend remembers what it asked. */
  const verifiedReferences = new Set<string>();
  const api = (path: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}) =>
    fetch(`${options.baseUrl}${path}`, {
      method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
      headers: {
        authorization: `Bearer ${options.apiKey}`,
        ...(init.body !== undefined && { 'content-type': 'application/json' }),
        ...init.headers,
      },
      ...(init.body !== undefined && { body: JSON.stringify(init.body) }),
    });

  const send = async (idempotencyKey: string, body: Record<string, unknown>) => {
    const response = await api('/v1/messages', { body, headers: { 'idempotency-key': idempotencyKey } });
    if (response.status >= 400)
      console.error(`[demo backend] send refused: ${response.status} ${await response.text()}`);
  };

  // As a backend would: on the channel the customer used, naming their message, so an email answer is threaded.
  const answerInKind = (detail: Record<string, string | undefined>) => ({
    channel: detail.channel === 'email' ? 'email' : 'sms',
    ...(detail.messageId !== undefined && { inReplyTo: detail.messageId }),
  });

  const react = async (event: Pick<CapturedEvent, 'type' | 'source' | 'detail'>) => {
    const detail = event.detail as Record<string, string | undefined>;
    if (event.source !== 'parley' || detail.tenantId !== options.tenantId || !detail.customerId) return;
    const customerId = detail.customerId;
    if (event.type === 'keyword.received' && detail.keyword === 'BAL') {
      await send(`demo:bal:${detail.messageId}`, {
        customerId,
        ...answerInKind(detail),
        template: 'balance-reply',
        data: { balance: '$1,234.56' },
      });
    }
    if (event.type === 'prompt.answered' && detail.reference?.startsWith('txn-')) {
      // An alert it asked a code for is acted on only with the verification Parley reports (DESIGN section 16).
      if (verifiedReferences.has(detail.reference) && !(event.detail as { verification?: unknown }).verification) {
        console.error(`[demo backend] ${detail.reference} answered without its verification: not acted on`);
        return;
      }
      const blocked = detail.answer === 'no';
      await send(`demo:card:${detail.promptMessageId}`, {
        customerId,
        ...answerInKind(detail),
        template: blocked ? 'card-blocked' : 'card-confirmed',
        data: { reference: detail.reference },
        reference: detail.reference,
      });
    }
  };
  const reactLogged = (event: Pick<CapturedEvent, 'type' | 'source' | 'detail'>) => {
    react(event).catch((error: unknown) => console.error('[demo backend] failed', error));
  };

  if (!options.webhooks) {
    const unsubscribe = options.edges.events.onEvent(reactLogged);
    return {
      afterReady: async () => undefined,
      stop: async () => unsubscribe(),
      expectVerification: (reference: string) => {
        verifiedReferences.add(reference);
      },
    };
  }

  let verifier: Webhook | undefined;
  const receiver: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
      let payload: { type: string; timestamp: string; data: unknown };
      try {
        if (!verifier || req.method !== 'POST' || req.url !== receiverPath) throw new Error('not ours');
        // Verify first, act after: an unsigned or forged body never reaches `react`.
        payload = verifier.verify(body, headers) as typeof payload;
      } catch {
        console.error('[demo backend] webhook refused: the signature does not verify');
        res.writeHead(401).end();
        return;
      }
      console.log(`[demo backend] webhook ${payload.type} verified (webhook-id ${headers['webhook-id']})`);
      res.writeHead(204).end();
      reactLogged({ type: payload.type, source: 'parley', detail: payload.data });
    });
  });
  const listening = new Promise<string>((resolve) =>
    receiver.listen(0, '127.0.0.1', () => {
      resolve(`http://127.0.0.1:${(receiver.address() as AddressInfo).port}${receiverPath}`);
    }),
  );

  return {
    async afterReady() {
      const url = await listening;
      // The receivers of earlier runs listened on other ports: remove them, or their deliveries would keep failing.
      const listed = (await (await api('/v1/webhooks')).json()) as { webhooks?: { webhookId: string; url: string }[] };
      for (const old of listed.webhooks ?? []) {
        if (old.url.includes(receiverPath)) await api(`/v1/webhooks/${old.webhookId}`, { method: 'DELETE' });
      }
      const created = await api('/v1/webhooks', {
        body: { url, events: ['keyword.received', 'prompt.answered'] },
      });
      if (created.status !== 201) throw new Error(`registering the webhook: ${created.status} ${await created.text()}`);
      verifier = new Webhook(((await created.json()) as { secret: string }).secret);
      console.log(`[demo backend] listening for signed webhooks at ${url}`);
    },
    expectVerification: (reference: string) => {
      verifiedReferences.add(reference);
    },
    stop: () =>
      new Promise<void>((done) => {
        receiver.closeAllConnections();
        receiver.close(() => done());
      }),
  };
};
