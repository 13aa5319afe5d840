import { DynamoCustomerStore } from '../adapters/dynamo/customer-store.ts';
import { createDocumentClient } from '../adapters/dynamo/dynamo-helpers.ts';
import { DynamoMessageStore } from '../adapters/dynamo/message-store.ts';
import { requireEnv } from '../config/env.ts';
import * as envNames from '../config/env-names.ts';
import { messageView } from '../domain/customers.ts';
import { NotFoundError } from '../domain/errors.ts';
import { type HttpRequest, httpHandler, json, requirePrincipal } from './http/http-handler.ts';

const tableName = requireEnv(envNames.tableName);
const db = createDocumentClient();
const messages = new DynamoMessageStore(tableName, db);
const customers = new DynamoCustomerStore(tableName, db);

const getMessage = async (request: HttpRequest) => {
  const { tenantId } = requirePrincipal(request);
  const messageId = request.event.pathParameters?.messageId ?? '';
  // Keys are tenant-scoped: another tenant's message id simply is not found.
  const message = /^msg_[0-9A-Z]{26}$/.test(messageId) ? await messages.getMessage(tenantId, messageId) : undefined;
  if (!message) throw new NotFoundError('Message');
  const customer = message.prompt ? await customers.getCustomer(tenantId, message.customerId) : undefined;
  return json(200, messageView(message, customer));
};

export const handler = httpHandler(getMessage);
