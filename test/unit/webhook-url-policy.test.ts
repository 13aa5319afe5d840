import { describe, expect, it } from 'vitest';
import {
  pinnedLookup,
  type ResolveHost,
  resolveAndCheckWebhookUrl,
} from '../../functions/adapters/webhooks/resolve-and-check.ts';
import { checkWebhookUrl, refusedAddressReason } from '../../functions/domain/webhook-url-policy.ts';

/** A resolver answering from a table, recording each name asked. */
const fakeResolver = (table: Record<string, string[]>) => {
  const asked: string[] = [];
  const resolve: ResolveHost = async (host) => {
    asked.push(host);
    const addresses = table[host];
    if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return { asked, resolve };
};

describe('webhook URL policy', () => {
  it.each([
    ['http://169.254.169.254/', 'HTTPS only'],
    ['http://example.com/hooks', 'HTTPS only'],
    ['ftp://example.com/', 'HTTPS only'],
    ['https://169.254.169.254/latest/meta-data/', 'link-local'],
    ['https://10.0.0.1/', 'private'],
    ['https://172.16.5.4/', 'private'],
    ['https://172.31.255.255/', 'private'],
    ['https://192.168.1.10/', 'private'],
    ['https://100.64.0.1/', 'private'],
    ['https://0.0.0.0/', 'private'],
    ['https://0/', 'private'],
    ['https://224.0.0.251/', 'private'],
    ['https://255.255.255.255/', 'private'],
    ['https://127.0.0.1/', 'loopback'],
    ['https://127.8.9.10/', 'loopback'],
    ['https://2130706433/', 'loopback'],
    ['https://0x7f.0.0.1/', 'loopback'],
    ['https://0177.0.0.1/', 'loopback'],
    ['https://127.1/', 'loopback'],
    ['https://[::1]/', 'loopback'],
    ['https://[::]/', 'private'],
    ['https://[fd00::1]/', 'private'],
    ['https://[fd00:ec2::254]/', 'private'],
    ['https://[fe80::1]/', 'link-local'],
    ['https://[ff02::1]/', 'private'],
    ['https://[::ffff:10.0.0.1]/', 'carries 10.0.0.1'],
    ['https://[::ffff:a00:1]/', 'carries 10.0.0.1'],
    ['https://[::ffff:169.254.169.254]/', 'carries 169.254.169.254'],
    ['https://[::ffff:127.0.0.1]/', 'loopback'],
    ['https://[::10.0.0.1]/', 'carries 10.0.0.1'],
    ['https://[64:ff9b::a9fe:a9fe]/', 'carries 169.254.169.254'],
    ['https://[2002:c0a8:101::1]/', 'carries 192.168.1.1'],
    ['https://user:secret@example.com/', 'user info'],
    ['https://token@example.com/', 'user info'],
    ['https://example.com/#frag', 'fragment'],
    ['https://localhost/', 'internal name'],
    ['https://api.localhost/', 'internal name'],
    ['https://ip-10-0-0-1.ec2.internal/', 'internal name'],
    ['https://intranet/', 'not a fully qualified name'],
    ['not a url', 'not a URL'],
    [`https://example.com/${'a'.repeat(2048)}`, 'longer than 2048'],
  ])('refuses %s (%s)', (url, reason) => {
    // Act
    const verdict = checkWebhookUrl(url);

    // Assess
    expect(verdict.ok).toBe(false);
    expect(verdict.ok ? '' : verdict.reason).toContain(reason);
  });

  it.each([
    'https://example.com/webhooks/parley',
    'https://hooks.example.com:8443/in?tenant=demo',
    'https://93.184.216.34/hook',
    'https://[2606:4700:4700::1111]/hook',
    'https://example.com./hook',
  ])('accepts the public https URL %s', (url) => {
    const verdict = checkWebhookUrl(url);

    expect(verdict).toEqual({ ok: true, url: new URL(url) });
  });

  it('allows http and loopback in the local runtime, nothing else private', () => {
    const local = { local: true };

    expect(checkWebhookUrl('http://127.0.0.1:3000/hook', local).ok).toBe(true);
    expect(checkWebhookUrl('http://localhost:3000/hook', local).ok).toBe(true);
    expect(checkWebhookUrl('http://[::1]:3000/hook', local).ok).toBe(true);
    expect(checkWebhookUrl('http://169.254.169.254/', local).ok).toBe(false);
    expect(checkWebhookUrl('http://10.0.0.1/', local).ok).toBe(false);
    expect(checkWebhookUrl('http://[fd00::1]/', local).ok).toBe(false);
    expect(checkWebhookUrl('http://127.0.0.1:3000/hook').ok).toBe(false);
  });

  it('judges bare addresses as DNS answers them', () => {
    expect(refusedAddressReason('8.8.8.8')).toBeUndefined();
    expect(refusedAddressReason('2001:4860:4860::8888')).toBeUndefined();
    expect(refusedAddressReason('fe80::1%eth0')).toContain('link-local');
    expect(refusedAddressReason('::ffff:192.168.0.1')).toContain('carries 192.168.0.1');
    expect(refusedAddressReason('example.com')).toContain('not an IP address');
  });
});

describe('webhook URL resolution before each delivery', () => {
  it('refuses a name that resolves to 127.0.0.1', async () => {
    // Prepare
    const dns = fakeResolver({ 'rebind.example.com': ['127.0.0.1'] });

    // Act
    const verdict = await resolveAndCheckWebhookUrl('https://rebind.example.com/hook', { resolve: dns.resolve });

    // Assess
    expect(verdict).toEqual({ ok: false, reason: 'rebind.example.com resolves to 127.0.0.1 is a loopback address' });
    expect(dns.asked).toEqual(['rebind.example.com']);
  });

  it('refuses a name when any one of its addresses is refused', async () => {
    const dns = fakeResolver({ 'mixed.example.com': ['93.184.216.34', '2606:4700::1', 'fd00::1'] });

    const verdict = await resolveAndCheckWebhookUrl('https://mixed.example.com/', { resolve: dns.resolve });

    expect(verdict.ok).toBe(false);
    expect(verdict.ok ? '' : verdict.reason).toContain('fd00::1');
  });

  it('accepts a public name and hands back the addresses it checked', async () => {
    const dns = fakeResolver({ 'hooks.example.com': ['93.184.216.34', '2606:4700::1'] });

    const verdict = await resolveAndCheckWebhookUrl('https://hooks.example.com/in', { resolve: dns.resolve });

    expect(verdict).toEqual({
      ok: true,
      url: new URL('https://hooks.example.com/in'),
      addresses: [
        { address: '93.184.216.34', family: 4 },
        { address: '2606:4700::1', family: 6 },
      ],
    });
  });

  it('refuses a name that does not resolve, and asks DNS nothing for a URL the policy refuses', async () => {
    // Prepare
    const dns = fakeResolver({});

    // Act
    const unknown = await resolveAndCheckWebhookUrl('https://gone.example.com/', { resolve: dns.resolve });
    const plain = await resolveAndCheckWebhookUrl('http://gone.example.com/', { resolve: dns.resolve });

    // Assess
    expect(unknown).toEqual({ ok: false, reason: 'gone.example.com does not resolve (ENOTFOUND)' });
    expect(plain).toEqual({ ok: false, reason: 'HTTPS only' });
    expect(dns.asked).toEqual(['gone.example.com']);
  });

  it('checks an IP host without asking DNS', async () => {
    const dns = fakeResolver({});

    const verdict = await resolveAndCheckWebhookUrl('https://[2606:4700::1]/', { resolve: dns.resolve });

    expect(verdict).toEqual({
      ok: true,
      url: new URL('https://[2606:4700::1]/'),
      addresses: [{ address: '2606:4700::1', family: 6 }],
    });
    expect(dns.asked).toEqual([]);
  });

  it('allows a name resolving to loopback in the local runtime only', async () => {
    const dns = fakeResolver({ 'dev.example.com': ['127.0.0.1'] });

    const local = await resolveAndCheckWebhookUrl('https://dev.example.com/', { resolve: dns.resolve, local: true });
    const onAws = await resolveAndCheckWebhookUrl('https://dev.example.com/', { resolve: dns.resolve });

    expect(local.ok).toBe(true);
    expect(onAws.ok).toBe(false);
  });

  it('connects only to the checked addresses, whatever DNS would answer for the name', async () => {
    // Prepare
    const lookup = pinnedLookup([{ address: '93.184.216.34', family: 4 }]);

    // Act
    const answer = await new Promise<{ address: string; family: number }>((resolve, reject) =>
      lookup('localhost', {}, (error, address, family) =>
        error ? reject(error) : resolve({ address: address as string, family: family as number }),
      ),
    );

    const all = await new Promise<unknown>((resolve) =>
      lookup('localhost', { all: true }, (_error, addresses) => resolve(addresses)),
    );

    // Assess
    expect(answer).toEqual({ address: '93.184.216.34', family: 4 });
    expect(all).toEqual([{ address: '93.184.216.34', family: 4 }]);
  });
});
