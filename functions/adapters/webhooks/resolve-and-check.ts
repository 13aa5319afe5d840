import { lookup } from 'node:dns/promises';
import { isIP, type LookupFunction } from 'node:net';
import {
  checkWebhookUrl,
  refusedAddressReason,
  type WebhookUrlPolicyOptions,
} from '../../domain/webhook-url-policy.ts';

/** Every address a host name resolves to, as `dns.promises.lookup(host, { all: true })` answers. */
export type ResolveHost = (host: string) => Promise<readonly { address: string; family: number }[]>;

const systemResolve: ResolveHost = (host) => lookup(host, { all: true, verbatim: true });

export type ResolvedWebhookTarget =
  | { ok: true; url: URL; addresses: readonly { address: string; family: 4 | 6 }[] }
  | { ok: false; reason: string };

/**
 * The URL policy, then the host's addresses as DNS answers now: refused when ANY of them is in a refused range, or
 * when the name does not resolve. Run before each delivery, not only at registration, since a name's answers change
 * (DNS rebinding). The addresses are returned so the request connects to one of them (`pinnedLookup`) instead of
 * resolving a second time, which would let a rebinding answer slip in between the check and the connection.
 */
export const resolveAndCheckWebhookUrl = async (
  input: string,
  options: WebhookUrlPolicyOptions & { resolve?: ResolveHost } = {},
): Promise<ResolvedWebhookTarget> => {
  const verdict = checkWebhookUrl(input, options);
  if (!verdict.ok) return verdict;
  const host = verdict.url.hostname.replace(/^\[|\]$/g, '');
  const literal = isIP(host);
  if (literal !== 0) return { ok: true, url: verdict.url, addresses: [{ address: host, family: literal as 4 | 6 }] };
  let answers: readonly { address: string; family: number }[];
  try {
    answers = await (options.resolve ?? systemResolve)(host);
  } catch (error) {
    const code = (error as { code?: string }).code;
    return { ok: false, reason: `${host} does not resolve${code ? ` (${code})` : ''}` };
  }
  if (answers.length === 0) return { ok: false, reason: `${host} does not resolve` };
  for (const { address } of answers) {
    const reason = refusedAddressReason(address, options);
    if (reason) return { ok: false, reason: `${host} resolves to ${reason}` };
  }
  return {
    ok: true,
    url: verdict.url,
    addresses: answers.map(({ address }) => ({ address, family: isIP(address) as 4 | 6 })),
  };
};

/**
 * A `lookup` for `https.request`/`net.connect` that answers only the addresses already checked, so the connection
 * goes where the check looked.
 */
export const pinnedLookup =
  (addresses: readonly { address: string; family: 4 | 6 }[]): LookupFunction =>
  (_hostname, options, callback) => {
    const first = addresses[0];
    if (!first) {
      callback(Object.assign(new Error('No checked address'), { code: 'ENOTFOUND' }), '', 4);
      return;
    }
    if (options.all) {
      (callback as unknown as (err: null, all: { address: string; family: number }[]) => void)(null, [...addresses]);
      return;
    }
    callback(null, first.address, first.family);
  };
