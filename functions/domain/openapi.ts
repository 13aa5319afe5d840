import * as z from 'zod/mini';
import { httpRoutes } from '../routes.ts';
import { putCustomerRequestSchema, sendMessageRequestSchema } from './contact-schemas.ts';
import {
  callbackQuerySchema,
  callbackUpdateSchema,
  chatSessionRequestSchema,
  conversationQuerySchema,
  conversationsQuerySchema,
  putTemplateRequestSchema,
  replyRequestSchema,
} from './schemas.ts';

/** Request bodies by route key: the same schemas that validate the requests. */
const requestBodies: Record<string, z.ZodMiniType> = {
  'POST /v1/messages': sendMessageRequestSchema,
  'POST /v1/customers/{customerId}/messages': replyRequestSchema,
  'POST /v1/customers/{customerId}/chat-sessions': chatSessionRequestSchema,
  'PATCH /v1/callbacks/{callbackId}': callbackUpdateSchema,
  'PUT /v1/customers/{customerId}': putCustomerRequestSchema,
  'PUT /v1/templates/{name}': putTemplateRequestSchema,
};

const querySchemas: Record<string, z.ZodMiniObject> = {
  'GET /v1/customers/{customerId}/conversation': conversationQuerySchema,
  'GET /v1/callbacks': callbackQuerySchema,
  'GET /v1/conversations': conversationsQuerySchema,
};

const summaries: Record<string, string> = {
  'POST /v1/messages': 'Send a templated or literal SMS or email (idempotent with Idempotency-Key)',
  'GET /v1/messages/{messageId}': 'A message with its status history, prompt and reference',
  'GET /v1/customers/{customerId}': 'A customer profile with consent per channel',
  'PUT /v1/customers/{customerId}': 'Create or update a customer profile',
  'GET /v1/customers/{customerId}/conversation': 'The cross-channel timeline, newest first',
  'GET /v1/templates': "The tenant's templates",
  'GET /v1/templates/{name}': 'One template',
  'PUT /v1/templates/{name}': 'Create or replace a template',
  'GET /openapi.json': 'This document',
  'POST /v1/customers/{customerId}/messages':
    'Reply to a customer on the channel they are on now (connected chat, else their last inbound channel)',
  'POST /v1/customers/{customerId}/chat-sessions': 'Start a chat: a signed, expiring link (optionally texted)',
  'GET /v1/conversations': 'Conversations needing attention: open callbacks, active chats, unanswered free text',
  'GET /v1/callbacks': 'The callback queue, newest first, by status',
  'PATCH /v1/callbacks/{callbackId}': 'Complete or cancel a callback',
  'GET /chat': 'The customer chat page (token in the URL fragment)',
  'GET /agent': 'The agent console',
};

const errorSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string' },
        message: { type: 'string' },
        details: {
          type: 'array',
          items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } },
        },
      },
    },
  },
};

/** Named schemas (an `id` in `z.globalRegistry`) land in components.schemas and are referenced from there. */
const components: Record<string, unknown> = {};

const jsonSchema = (schema: z.ZodMiniType) => {
  const converted = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  const { $schema, $defs, ...rest } = JSON.parse(
    JSON.stringify(converted).replaceAll('"#/$defs/', '"#/components/schemas/'),
  ) as Record<string, unknown>;
  Object.assign(components, $defs);
  return rest;
};

/** The OpenAPI 3.1 document of the HTTP API, built from the route table and the request schemas. */
export const buildOpenApiDocument = (serverUrl?: string) => {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of httpRoutes) {
    const key = `${route.method} ${route.path}`;
    const parameters: unknown[] = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      schema: { type: 'string' },
    }));
    const query = querySchemas[key];
    if (query) {
      for (const [name, schema] of Object.entries(query.shape)) {
        parameters.push({ name, in: 'query', required: false, schema: jsonSchema(schema as z.ZodMiniType) });
      }
    }
    if (key === 'POST /v1/messages') {
      parameters.push({
        name: 'Idempotency-Key',
        in: 'header',
        required: false,
        description: '1-255 printable characters; a replay answers the first response, kept at least 24 h',
        schema: { type: 'string', minLength: 1, maxLength: 255 },
      });
    }
    const body = requestBodies[key];
    const error = {
      description: 'Error',
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    };
    paths[route.path] ??= {};
    (paths[route.path] as Record<string, unknown>)[route.method.toLowerCase()] = {
      summary: summaries[key],
      operationId: `${route.method.toLowerCase()}${route.path.replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
      ...(route.scope === null ? { security: [] } : { 'x-parley-scope': route.scope }),
      ...(parameters.length > 0 && { parameters }),
      ...(body && { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(body) } } } }),
      responses: {
        [key === 'POST /v1/messages' ? '202' : '200']: { description: 'OK', content: { 'application/json': {} } },
        '4XX': error,
        '5XX': error,
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Parley HTTP API',
      version: '1.0.0',
      description: 'Two-way transactional messaging: send, conversations, customers and templates.',
    },
    ...(serverUrl && { servers: [{ url: serverUrl }] }),
    security: [{ apiKey: [] }],
    components: {
      securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'Parley API key (prl_...)' } },
      schemas: { ...components, Error: errorSchema },
    },
    paths,
  };
};
