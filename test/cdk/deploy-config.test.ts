import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDeployConfig, stackPropsFor } from '../../lib/deploy-config.ts';
import { packageRoot } from '../../lib/parley-function.ts';

describe('deploy configuration (context "parley")', () => {
  it('defaults to a stack that synthesizes without credentials', () => {
    expect(parseDeployConfig(undefined)).toEqual({
      stackName: 'Parley',
      emailDomain: 'example.com',
      replyDomain: 'reply.example.com',
    });
  });

  it('accepts cdk.json’s object as shipped', () => {
    const { context } = JSON.parse(readFileSync(join(packageRoot, 'cdk.json'), 'utf8'));
    expect(parseDeployConfig(context.parley).stackName).toBe('Parley');
  });

  it('accepts a JSON string, as `cdk deploy -c parley=...` passes it, and maps it onto the gateway', () => {
    const config = parseDeployConfig(
      '{"emailDomain":"mail.bank.example","alarmEmail":"ops@bank.example","authorizerCacheTtlSeconds":60,"eventArchiveDays":7}',
    );
    const { gateway } = stackPropsFor(config);
    expect(gateway).toMatchObject({ emailDomain: 'mail.bank.example', alarmEmail: 'ops@bank.example' });
    expect(gateway.authorizerCacheTtl?.toSeconds()).toBe(60);
    expect(gateway.eventArchiveRetention?.toDays()).toBe(7);
  });

  it.each([
    [{ alarmEmail: 'not-an-address' }, 'alarmEmail'],
    [{ authorizerCacheTtlSeconds: 7200 }, 'authorizerCacheTtlSeconds'],
    [{ emailDomian: 'typo.example' }, 'emailDomian'],
  ])('refuses %j naming the field', (raw, field) => {
    expect(() => parseDeployConfig(raw)).toThrow(field);
  });
});
