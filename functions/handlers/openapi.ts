import { httpHandler, json } from './http/http-handler.ts';
import { buildOpenApiDocument } from './http/openapi-document.ts';

// Built on the first request and kept, not at module init: converting every schema to JSON Schema is most of the
// work this function does.
let document: string | undefined;

export const handler = httpHandler(async () => {
  document ??= JSON.stringify(buildOpenApiDocument());
  return json(200, JSON.parse(document));
});
