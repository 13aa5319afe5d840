import { loadPage, type Page, type PageName } from '../adapters/pages/page-loader.ts';
import { optionalEnv, requireEnv } from '../config/env.ts';
import * as envNames from '../config/env-names.ts';
import { NotFoundError } from '../domain/errors.ts';
import { httpHandler } from './http/http-handler.ts';

const wsUrl = requireEnv(envNames.wsUrl);
const dir = optionalEnv(envNames.pagesDir);
const names: Record<string, PageName> = { 'GET /chat': 'chat', 'GET /agent': 'agent' };
const pages = new Map<string, Page>();

/** Serves the customer chat page and the agent console; they hold no data until given a token or a key. */
export const handler = httpHandler(async (request) => {
  const name = names[request.routeKey];
  if (!name) throw new NotFoundError('Page');
  let page = pages.get(name);
  if (!page) {
    page = loadPage(name, { wsUrl, ...(dir && { dir }) });
    pages.set(name, page);
  }
  return { statusCode: 200, headers: page.headers, body: page.body };
});
