import { buildOpenApiDocument } from '../domain/openapi.ts';
import { httpHandler, json } from './http/http-handler.ts';

const document = JSON.stringify(buildOpenApiDocument());

export const handler = httpHandler(async () => json(200, JSON.parse(document)));
