import { DynamoCustomerStore } from '../adapters/dynamo/customer-store.ts';
import { createDocumentClient } from '../adapters/dynamo/dynamo-helpers.ts';
import { DynamoMessageStore } from '../adapters/dynamo/message-store.ts';
import { requireEnv } from '../config/env.ts';
import * as envNames from '../config/env-names.ts';
import { conversationQuerySchema, putCustomerRequestSchema } from '../domain/customer-schemas.ts';
import { type CustomerDeps, conversationView, getCustomerProfile, putCustomer } from '../domain/customers.ts';
import { systemClock } from '../domain/ports.ts';
import { customerIdSchema, parseWith } from '../domain/schemas.ts';
import { type HttpRequest, json, requirePrincipal } from './http/http-handler.ts';
import { type Route, readPage, routedHandler } from './http/router.ts';

const tableName = requireEnv(envNames.tableName);
const db = createDocumentClient();
const deps: CustomerDeps = {
  customers: new DynamoCustomerStore(tableName, db),
  messages: new DynamoMessageStore(tableName, db),
  clock: systemClock,
};

const customerIdOf = (request: HttpRequest): string =>
  parseWith(customerIdSchema, request.event.pathParameters?.customerId ?? '', 'customerId');

const getCustomer: Route = async (request) => {
  const { tenantId } = requirePrincipal(request);
  return json(200, await getCustomerProfile(deps, tenantId, customerIdOf(request)));
};

const replaceCustomer: Route = async (request) => {
  const { tenantId } = requirePrincipal(request);
  const customerId = customerIdOf(request);
  const changes = parseWith(putCustomerRequestSchema, request.body ?? {});
  const { created, customer } = await putCustomer(deps, { tenantId, customerId, changes });
  return json(created ? 201 : 200, customer);
};

const getConversation: Route = async (request) => {
  const { tenantId } = requirePrincipal(request);
  const customerId = customerIdOf(request);
  const query = parseWith(conversationQuerySchema, request.event.queryStringParameters ?? {}, 'query');
  return json(200, await readPage('before', () => conversationView(deps, { tenantId, customerId, ...query })));
};

export const handler = routedHandler('customers', {
  'GET /v1/customers/{customerId}': getCustomer,
  'PUT /v1/customers/{customerId}': replaceCustomer,
  'GET /v1/customers/{customerId}/conversation': getConversation,
});
