import type * as ManagementApi from '@aws-sdk/client-apigatewaymanagementapi';
import type { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import type { ConnectionPusher } from '../../domain/escalation.ts';
import { loadOnFirstUse } from '../../lazy-packages.ts';

/** What the pusher needs of `@aws-sdk/client-apigatewaymanagementapi`. */
export type ManagementApiClient = Pick<
  typeof ManagementApi,
  'ApiGatewayManagementApiClient' | 'GoneException' | 'PostToConnectionCommand'
>;

/**
 * Pushes chat frames with API Gateway's `PostToConnection`; a `GoneException` means the connection is stale.
 *
 * The SDK client comes from `managementApi`. By default it is loaded on the first push (functions/lazy-packages.ts):
 * the functions that push only when a customer has a chat open (send, inbound, agent replies) do not carry it at
 * init. A function that pushes on most requests (ws-message) hands in the statically imported package instead.
 */
export class ApiGatewayPusher implements ConnectionPusher {
  private readonly clients = new Map<string, ApiGatewayManagementApiClient>();

  constructor(
    private readonly endpoint: () => string,
    private readonly managementApi: () => ManagementApiClient = () =>
      loadOnFirstUse('@aws-sdk/client-apigatewaymanagementapi'),
  ) {}

  async push(connectionId: string, frame: unknown): Promise<'ok' | 'gone'> {
    const { ApiGatewayManagementApiClient, GoneException, PostToConnectionCommand } = this.managementApi();
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
