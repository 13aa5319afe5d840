import { endChatConnection } from '../domain/escalation.ts';
import { createEscalation } from './chat/escalation-wiring.ts';
import { webSocketHandler } from './chat/websocket-event.ts';

const escalation = createEscalation();
const { deps, store } = escalation;

/** `$disconnect`: the customer left the chat; they are back on SMS. */
export const handler = webSocketHandler(async (event) => {
  const connection = await store.getConnection(event.requestContext.connectionId);
  if (connection) {
    await endChatConnection(deps, connection.tenantId, connection.customerId, {
      sessionId: connection.sessionId,
      connectionId: connection.connectionId,
    });
  }
  return { statusCode: 200 };
});
