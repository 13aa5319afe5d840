import type { AwsEdges, CapturedEvent } from './edges/aws-edges.ts';

/**
 * A stand-in for the bank's own backend: it listens to Parley's events and answers through the public send API,
 * as a real backend would. BAL gets a balance text; a card alert answered N blocks the card, Y confirms it.
 */
export const startDemoBackend = (options: { edges: AwsEdges; baseUrl: string; apiKey: string; tenantId: string }) => {
  /** The references of alerts it sent with `verify: "code"`, as a bank's backend remembers what it asked. */
  const verifiedReferences = new Set<string>();
  const send = async (idempotencyKey: string, body: Record<string, unknown>) => {
    const response = await fetch(`${options.baseUrl}/v1/messages`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${options.apiKey}`,
        'content-type': 'application/json',
        'idempotency-key': idempotencyKey,
      },
      body: JSON.stringify(body),
    });
    if (response.status >= 400)
      console.error(`[demo backend] send refused: ${response.status} ${await response.text()}`);
  };

  // As a backend would: on the channel the customer used, naming their message, so an email answer is threaded.
  const answerInKind = (detail: Record<string, string | undefined>) => ({
    channel: detail.channel === 'email' ? 'email' : 'sms',
    ...(detail.messageId !== undefined && { inReplyTo: detail.messageId }),
  });

  const react = async (event: CapturedEvent) => {
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

  const stop = options.edges.events.onEvent((event) => {
    react(event).catch((error: unknown) => console.error('[demo backend] failed', error));
  });
  return {
    stop,
    /** An alert sent with `verify: "code"`: its answer counts only with a verification. */
    expectVerification: (reference: string) => {
      verifiedReferences.add(reference);
    },
  };
};
