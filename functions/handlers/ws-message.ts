import { ApiGatewayPusher } from '../adapters/chat/api-gateway-pusher.ts';
import { timelineEntry } from '../domain/customers.ts';
import { receiveChatMessage } from '../domain/escalation.ts';
import { chatFrameSchema } from '../domain/schemas.ts';
import { createEscalation } from './chat/escalation-wiring.ts';
import { webSocketHandler } from './chat/websocket-event.ts';

const escalation = createEscalation({ pusher: (endpoint) => new ApiGatewayPusher(endpoint) });
const { deps, store } = escalation;

const historySize = 50;

/**
 * `$default`: the chat page's frames. `history` answers the recent conversation on every channel, oldest first
 * (API Gateway cannot push during `$connect`, so the page asks); `message` stores what the customer typed.
 */
export const handler = webSocketHandler(async (event) => {
  const { connectionId } = event.requestContext;
  escalation.useWebSocketEvent(event.requestContext);
  const connection = await store.getConnection(connectionId);
  const session = connection && (await store.getChatSession(connection.tenantId, connection.sessionId));
  if (!connection || !session || session.status !== 'open' || Date.parse(session.expiresAt) <= deps.clock.now()) {
    await deps.pusher.push(connectionId, {
      type: 'error',
      error: { code: 'unauthorized', message: 'This chat has ended' },
    });
    return { statusCode: 403 };
  }
  let frame: unknown;
  try {
    frame = JSON.parse(event.body ?? '');
  } catch {
    frame = undefined;
  }
  const parsed = chatFrameSchema.safeParse(frame);
  if (!parsed.success) {
    await deps.pusher.push(connectionId, {
      type: 'error',
      error: { code: 'invalid_request', message: 'Send {"type":"history"} or {"type":"message","body":"..."}' },
    });
    return { statusCode: 400 };
  }
  if (parsed.data.type === 'history') {
    const customer = await store.getCustomer(connection.tenantId, connection.customerId);
    const page = await store.listTimeline(connection.tenantId, connection.customerId, { limit: historySize });
    await deps.pusher.push(connectionId, {
      type: 'history',
      messages: page.messages.reverse().map((message) => timelineEntry(message, customer)),
    });
    return { statusCode: 200 };
  }
  const tenant = await escalation.tenant(connection.tenantId);
  if (!tenant) return { statusCode: 403 };
  await receiveChatMessage(deps, {
    tenant,
    customerId: connection.customerId,
    connectionId,
    body: parsed.data.body,
  });
  return { statusCode: 200 };
});
