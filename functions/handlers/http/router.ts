import { InvalidCursorError } from '../../adapters/dynamo/dynamo-helpers.ts';
import { InvalidRequestError, NotFoundError } from '../../domain/errors.ts';
import { type HttpHandlerName, httpRoutes, routeKey } from '../../routes.ts';
import { type HttpRequest, type HttpResult, httpHandler } from './http-handler.ts';

/** One route of a handler: parse the request, make one domain call, map the result. */
export type Route = (request: HttpRequest) => Promise<HttpResult>;

/**
 * A handler serving several routes of the route table, dispatched by route key (`GET /v1/callbacks`). The routes
 * given must be exactly the table's routes for that handler, checked when the module loads: a route cannot be
 * served by one and missing from the other.
 */
export const routedHandler = (
  handler: HttpHandlerName,
  routes: Record<string, Route>,
  options?: Parameters<typeof httpHandler>[1],
) => {
  const expected = httpRoutes
    .filter((route) => route.handler === handler)
    .map(routeKey)
    .sort();
  const given = Object.keys(routes).sort();
  if (expected.join('\n') !== given.join('\n')) {
    throw new Error(
      `The ${handler} handler serves [${given.join(', ')}]; the route table has [${expected.join(', ')}]`,
    );
  }
  return httpHandler(async (request) => {
    const route = routes[request.routeKey];
    if (!route) throw new NotFoundError('Route');
    return route(request);
  }, options);
};

/** A paged read: a cursor the store did not hand out is the caller's mistake, a 400 naming the query parameter. */
export const readPage = async <T>(cursorParameter: string, read: () => Promise<T>): Promise<T> => {
  try {
    return await read();
  } catch (error) {
    if (error instanceof InvalidCursorError) {
      throw new InvalidRequestError('The cursor is not valid', [
        { path: `query.${cursorParameter}`, message: 'invalid cursor' },
      ]);
    }
    throw error;
  }
};
