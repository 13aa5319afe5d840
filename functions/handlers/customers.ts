import { DynamoStore, InvalidCursorError } from '../adapters/dynamo/dynamo-store.ts';
import { requireEnv } from '../config/env.ts';
import { putCustomerRequestSchema } from '../domain/contact-schemas.ts';
import { customerView, openPromptsOf, syncAddresses, timelineEntry } from '../domain/customers.ts';
import { InvalidRequestError, NotFoundError } from '../domain/errors.ts';
import { conversationQuerySchema, customerIdSchema, parseWith } from '../domain/schemas.ts';
import { type HttpRequest, httpHandler, json, requirePrincipal } from './http/http-handler.ts';

const store = new DynamoStore(requireEnv('PARLEY_TABLE_NAME'));

const customerIdOf = (request: HttpRequest): string =>
  parseWith(customerIdSchema, request.event.pathParameters?.customerId ?? '', 'customerId');

const getCustomer = async (request: HttpRequest) => {
  const { tenantId } = requirePrincipal(request);
  const customer = await store.getCustomer(tenantId, customerIdOf(request));
  if (!customer) throw new NotFoundError('Customer');
  return json(200, customerView(customer));
};

const putCustomer = async (request: HttpRequest) => {
  const { tenantId } = requirePrincipal(request);
  const customerId = customerIdOf(request);
  const changes = parseWith(putCustomerRequestSchema, request.body ?? {});
  const result = await store.upsertCustomer(tenantId, customerId, changes, {
    create: true,
    now: new Date().toISOString(),
  });
  if (!result) throw new NotFoundError('Customer');
  await syncAddresses(store, result.before, result.after);
  return json(result.before ? 200 : 201, customerView(result.after));
};

const getConversation = async (request: HttpRequest) => {
  const { tenantId } = requirePrincipal(request);
  const customerId = customerIdOf(request);
  const query = parseWith(conversationQuerySchema, request.event.queryStringParameters ?? {}, 'query');
  const customer = await store.getCustomer(tenantId, customerId);
  if (!customer) throw new NotFoundError('Customer');
  let page: Awaited<ReturnType<typeof store.listTimeline>>;
  try {
    page = await store.listTimeline(tenantId, customerId, {
      limit: query.limit,
      ...(query.before !== undefined && { before: query.before }),
    });
  } catch (error) {
    if (error instanceof InvalidCursorError) {
      throw new InvalidRequestError('The cursor is not valid', [{ path: 'query.before', message: 'invalid cursor' }]);
    }
    throw error;
  }
  const now = Date.now();
  const latest = page.messages[0];
  return json(200, {
    customerId,
    activeChannel: customer.chat ? 'chat' : (customer.activeChannel ?? latest?.channel ?? null),
    preferredChannel: customer.preferences.channel ?? customer.learnedChannel ?? null,
    openPrompts: openPromptsOf(customer, now),
    messages: page.messages.map((message) => timelineEntry(message, customer)),
    ...(page.nextCursor !== undefined && { nextCursor: page.nextCursor }),
  });
};

const routes: Record<string, (request: HttpRequest) => Promise<ReturnType<typeof json>>> = {
  'GET /v1/customers/{customerId}': getCustomer,
  'PUT /v1/customers/{customerId}': putCustomer,
  'GET /v1/customers/{customerId}/conversation': getConversation,
};

export const handler = httpHandler(async (request) => {
  const route = routes[request.routeKey];
  if (!route) throw new NotFoundError('Route');
  return route(request);
});
