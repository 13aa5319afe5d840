import {
  ApiGatewayManagementApiClient,
  GoneException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import type { ConnectionPusher } from '../../domain/escalation.ts';

/** Pushes chat frames with API Gateway's `PostToConnection`; a `GoneException` means the connection is stale. */
export class ApiGatewayPusher implements ConnectionPusher {
  private readonly clients = new Map<string, ApiGatewayManagementApiClient>();

  constructor(private readonly endpoint: () => string) {}

  async push(connectionId: string, frame: unknown): Promise<'ok' | 'gone'> {
    const endpoint = this.endpoint();
    let client = this.clients.get(endpoint);
    if (!client) {
      client = new ApiGatewayManagementApiClient({ endpoint });
      this.clients.set(endpoint, client);
    }
    try {
      await client.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: JSON.stringify(frame) }));
      return 'ok';
    } catch (error) {
      if (error instanceof GoneException || (error as { name?: string }).name === 'GoneException') return 'gone';
      throw error;
    }
  }
}
