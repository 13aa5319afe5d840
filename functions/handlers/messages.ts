import { DynamoCustomerStore } from '../adapters/dynamo/customer-store.ts';
import { createDocumentClient } from '../adapters/dynamo/dynamo-helpers.ts';
import { DynamoMessageStore } from '../adapters/dynamo/message-store.ts';
import { DynamoStepUpStore } from '../adapters/dynamo/step-up-store.ts';
import { requireEnv } from '../config/env.ts';
import * as envNames from '../config/env-names.ts';
import { messageView } from '../domain/customers.ts';
import { NotFoundError } from '../domain/errors.ts';
import { type HttpRequest, httpHandler, json, requirePrincipal } from './http/http-handler.ts';

const tableName = requireEnv(envNames.tableName);
const db = createDocumentClient();
const messages = new DynamoMessageStore(tableName, db);
const customers = new DynamoCustomerStore(tableName, db);
const stepUps = new DynamoStepUpStore(tableName, db);

const getMessage = async (request: HttpRequest) => {
  const { tenantId } = requirePrincipal(request);
  const messageId = request.event.pathParameters?.messageId ?? '';
  // Keys are tenant-scoped: another tenant's message id simply is not found.
  const message = /^msg_[0-9A-Z]{26}$/.test(messageId) ? await messages.getMessage(tenantId, messageId) : undefined;
  if (!message) throw new NotFoundError('Message');
  const [customer, stepUp] = await Promise.all([
    message.prompt ? customers.getCustomer(tenantId, message.customerId) : undefined,
    // A prompt that asked for a code: its verification's audit trail, in order (DESIGN section 16).
    message.prompt?.verify ? stepUps.getStepUp(tenantId, message.messageId) : undefined,
  ]);
  return json(200, { ...messageView(message, customer), ...(stepUp && { audit: stepUp.audit }) });
};

export const handler = httpHandler(getMessage);
