import { httpHandler, json } from './http/http-handler.ts';
import { buildOpenApiDocument } from './http/openapi-document.ts';

const document = JSON.stringify(buildOpenApiDocument());

export const handler = httpHandler(async () => json(200, JSON.parse(document)));
