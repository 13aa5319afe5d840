import {
  ApiGatewayManagementApiClient,
  GoneException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { ApiGatewayPusher } from '../adapters/chat/api-gateway-pusher.ts';
import { chatFrameSchema } from '../domain/chat-frame-schema.ts';
import { type ChatFrame, receiveChatFrame } from '../domain/escalation.ts';
import { createEscalation } from './chat/escalation-wiring.ts';
import { webSocketHandler } from './chat/websocket-event.ts';

// Most frames are answered with a push: the client is bundled, not loaded on the first push as elsewhere.
const managementApi = { ApiGatewayManagementApiClient, GoneException, PostToConnectionCommand };
const escalation = createEscalation({ pusher: (endpoint) => new ApiGatewayPusher(endpoint, () => managementApi) });

/** The frame the page sent, or undefined when it is not JSON or not one Parley knows. */
const parseFrame = (body: string | null | undefined): ChatFrame | undefined => {
  let frame: unknown;
  try {
    frame = JSON.parse(body ?? '');
  } catch {
    return undefined;
  }
  const parsed = chatFrameSchema.safeParse(frame);
  return parsed.success ? parsed.data : undefined;
};

const statusByOutcome = { ok: 200, invalid: 400, ended: 403 } as const;

/** `$default`: the chat page's frames (`history`, `message`); see `receiveChatFrame`. */
export const handler = webSocketHandler(async (event) => {
  escalation.useWebSocketEvent(event.requestContext);
  const outcome = await receiveChatFrame(escalation.deps, {
    connectionId: event.requestContext.connectionId,
    frame: parseFrame(event.body),
  });
  return { statusCode: statusByOutcome[outcome] };
});
