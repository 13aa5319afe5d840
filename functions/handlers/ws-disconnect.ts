import { disconnectChat } from '../domain/escalation.ts';
import { createEscalation } from './chat/escalation-wiring.ts';
import { webSocketHandler } from './chat/websocket-event.ts';

const { deps } = createEscalation();

/** `$disconnect`: the customer left the chat; they are back on SMS. */
export const handler = webSocketHandler(async (event) => {
  await disconnectChat(deps, event.requestContext.connectionId);
  return { statusCode: 200 };
});
