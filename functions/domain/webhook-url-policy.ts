import { BlockList, isIP } from 'node:net';

/**
 * Which webhook URLs Parley calls (DESIGN section 15), checked at registration and again before each delivery
 * (with the addresses the host resolves to then: adapters/webhooks/resolve-and-check.ts).
 *
 * Ranges are held in `node:net`'s BlockList: Node core, no dependency, and it already matches the IPv4-mapped forms
 * (`::ffff:10.0.0.1`, `::ffff:a00:1`) against IPv4 rules. It does not see IPv4 inside the other IPv6 forms that
 * carry one (IPv4-compatible `::10.0.0.1`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`), so those are unpacked here and
 * the IPv4 is checked on its own. Odd IPv4 spellings need nothing: the WHATWG URL parser rewrites `2130706433`,
 * `0x7f.0.0.1`, `0177.0.0.1` and `127.1` to `127.0.0.1` before any check sees the host.
 */

export interface WebhookUrlPolicyOptions {
  /**
   * The local runtime: `http:` is allowed, and so are loopback addresses (a receiver on the developer's machine).
   * Private, link-local and the other ranges stay refused everywhere.
   */
  local?: boolean;
}

export type WebhookUrlVerdict = { ok: true; url: URL } | { ok: false; reason: string };

/** An address class Parley never calls, whatever the runtime. */
const refused = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], // "this network", 0.0.0.0 included
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['169.254.0.0', 16], // link-local, the instance metadata service at 169.254.169.254
  ['172.16.0.0', 12],
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.168.0.0', 16],
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, the broadcast 255.255.255.255 included
] as const) {
  refused.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128], // unspecified
  ['100::', 64], // discard
  ['2001:db8::', 32], // documentation
  ['fc00::', 7], // unique local, fd00:ec2::254 (the metadata service over IPv6) included
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
] as const) {
  refused.addSubnet(network, prefix, 'ipv6');
}

/** Loopback, refused everywhere but the local runtime. */
const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

/** The eight 16-bit groups of an IPv6 address (a trailing dotted quad folded in), or undefined. */
const ipv6Groups = (address: string): number[] | undefined => {
  let text = address;
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, quad.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((g) => Number.parseInt(g, 16)));
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  const groups = tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill(0), ...right];
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : undefined;
};

const ipv4Of = (high: number, low: number) => `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;

/** The IPv4 address an IPv6 one carries: mapped, compatible (deprecated), NAT64 well-known prefix, or 6to4. */
const embeddedIpv4 = (groups: number[]): string | undefined => {
  if (groups.length !== 8) return undefined;
  const at = (i: number) => groups[i] as number;
  const zeroTo = (n: number) => groups.slice(0, n).every((g) => g === 0);
  if (zeroTo(5) && at(5) === 0xffff) return ipv4Of(at(6), at(7)); // ::ffff:a.b.c.d
  if (zeroTo(6) && (at(6) !== 0 || at(7) > 1)) return ipv4Of(at(6), at(7)); // ::a.b.c.d, not :: or ::1
  if (at(0) === 0x64 && at(1) === 0xff9b && groups.slice(2, 6).every((g) => g === 0)) return ipv4Of(at(6), at(7));
  if (at(0) === 0x2002) return ipv4Of(at(1), at(2)); // 6to4
  return undefined;
};

/**
 * Why Parley will not call this IP address, or undefined when it may. `address` is a bare IPv4 or IPv6 address
 * (no brackets; a zone id is ignored), as a URL's host or a DNS answer gives it.
 */
export const refusedAddressReason = (address: string, options: WebhookUrlPolicyOptions = {}): string | undefined => {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const family = isIP(bare);
  if (family === 0) return `'${address}' is not an IP address`;
  const type = family === 4 ? 'ipv4' : 'ipv6';
  const inner = family === 6 ? embeddedIpv4(ipv6Groups(bare) ?? []) : undefined;
  if (inner !== undefined && inner !== bare) {
    const reason = refusedAddressReason(inner, options);
    if (reason) return `${address} carries ${inner}: ${reason}`;
  }
  if (loopback.check(bare, type)) return options.local ? undefined : `${address} is a loopback address`;
  if (refused.check(bare, type)) return `${address} is a private, link-local or reserved address`;
  return undefined;
};

/** Names that only mean something inside a network (or this machine): refused before DNS is asked. */
const internalName = /(^|\.)(localhost|local|internal|localdomain|home\.arpa)$/;

/** URLs longer than this are refused: no receiver needs more, and the URL is stored and logged. */
export const maxWebhookUrlLength = 2048;

/**
 * Whether Parley may POST webhooks to `input`, judged on the URL alone (a host name is resolved and checked by
 * adapters/webhooks/resolve-and-check.ts). Refused: anything but `https:` (`http:` too in the local runtime), user
 * info (a credential in a URL ends up in logs; the signature authenticates Parley), a fragment (never sent), an IP
 * host in a refused range, a single-label or internal name (`intranet`, `*.internal`, `localhost`). Any port is
 * allowed: receivers run behind 8443 and the like, and the address checks, not the port, keep Parley out of
 * private networks.
 */
export const checkWebhookUrl = (input: string, options: WebhookUrlPolicyOptions = {}): WebhookUrlVerdict => {
  if (input.length > maxWebhookUrlLength) return { ok: false, reason: `longer than ${maxWebhookUrlLength} characters` };
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    return { ok: false, reason: 'not a URL' };
  }
  const schemes = options.local ? ['https:', 'http:'] : ['https:'];
  if (!schemes.includes(url.protocol)) return { ok: false, reason: `${options.local ? 'HTTP(S)' : 'HTTPS'} only` };
  if (url.username || url.password) return { ok: false, reason: 'user info is not allowed in the URL' };
  if (url.hash) return { ok: false, reason: 'a fragment is not allowed in the URL' };
  const host = url.hostname.replace(/\.$/, '');
  if (host.startsWith('[') || isIP(host) !== 0) {
    const reason = refusedAddressReason(host, options);
    return reason ? { ok: false, reason } : { ok: true, url };
  }
  if (internalName.test(host)) {
    return options.local && /(^|\.)localhost$/.test(host)
      ? { ok: true, url }
      : { ok: false, reason: `${host} is an internal name` };
  }
  if (!host.includes('.')) return { ok: false, reason: `${host} is not a fully qualified name` };
  return { ok: true, url };
};
