// Shared by the Parley pages (chat, agent console, local console). Not served on its own: the page loader
// (functions/adapters/pages/page-loader.ts) inlines it inside a page's own function where the page asks for it, so
// nothing here becomes a global, before the CSP hashes are computed. Plain browser JavaScript: no imports or exports.
// biome-ignore-all lint/correctness/noUnusedVariables: the pages that include this file use these.

const byId = (id) => document.getElementById(id);

/** An element with an optional class and text; text is always set as text, never parsed as HTML. */
const el = (tag, className, text) => {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
};

const channelNames = { sms: 'SMS', email: 'Email', chat: 'Chat' };

/** Today: the time only (with seconds unless `seconds` is false); another day: the date and time; '' if no date. */
const formatTime = (iso, seconds = true) => {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  return date.toDateString() === new Date().toDateString()
    ? date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', ...(seconds && { second: '2-digit' }) })
    : date.toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
};

/** A `<time>` for an ISO timestamp (see `formatTime`), with the full local date and time as its tooltip. */
const timeEl = (iso, seconds = true) => {
  const time = el('time', '', formatTime(iso, seconds));
  const date = new Date(iso);
  if (!Number.isNaN(date.getTime())) {
    time.dateTime = date.toISOString();
    time.title = date.toLocaleString();
  }
  return time;
};

/** Puts `nodes` at the start of `parent` in this order, moving only the ones that are out of place. */
const placeInOrder = (parent, nodes) => {
  let previous = null;
  for (const node of nodes) {
    const expected = previous ? previous.nextSibling : parent.firstChild;
    if (expected !== node) parent.insertBefore(node, expected);
    previous = node;
  }
};

/** A failed call to the gateway: `status` 0 when it could not be reached; `code` is the API's error code. */
class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** What to show for a failure: the API's message with its code and status, or a generic line for a page bug. */
const describeError = (error) => {
  if (error instanceof ApiError) {
    return error.status ? `${error.message} (${error.code}, HTTP ${error.status})` : error.message;
  }
  return 'Something went wrong in this page. Reload it and try again.';
};

/**
 * Calls the gateway with an optional JSON body and returns the parsed JSON answer (null when empty); any failure is
 * an `ApiError`. `options.headers` are added to the request; `options.unreachable` is the message for a network error.
 */
const fetchJson = async (method, path, body, options = {}) => {
  const headers = { ...options.headers, accept: 'application/json' };
  const init = { method, headers, cache: 'no-store' };
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiError(0, 'network', options.unreachable || 'The gateway cannot be reached.');
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const error = data && typeof data === 'object' && data.error ? data.error : {};
    throw new ApiError(
      response.status,
      typeof error.code === 'string' ? error.code : `http_${response.status}`,
      typeof error.message === 'string' ? error.message : `The gateway answered HTTP ${response.status}.`,
    );
  }
  return data;
};

/**
 * Runs `fn` every `ms` while started, skipping runs while the tab is hidden; `now()` runs it at once (or right
 * after the run in flight). `fn` should not throw.
 */
const makeLoop = (fn, ms) => {
  const loop = { active: false, busy: false, again: false, timer: 0 };
  const run = async () => {
    clearTimeout(loop.timer);
    if (!loop.active) return;
    if (loop.busy) {
      loop.again = true;
      return;
    }
    loop.busy = true;
    if (!document.hidden) await fn();
    loop.busy = false;
    if (!loop.active) return;
    if (loop.again) {
      loop.again = false;
      run();
    } else {
      loop.timer = setTimeout(run, ms);
    }
  };
  loop.start = () => {
    loop.active = true;
    run();
  };
  loop.stop = () => {
    loop.active = false;
    clearTimeout(loop.timer);
  };
  loop.now = () => run();
  return loop;
};
