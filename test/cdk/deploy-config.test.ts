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
      smsDeliveryStatusLogs: false,
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

  it('maps the chat settings: WebSocket throttling, chat session lifetime, the account logging role', () => {
    const { gateway } = stackPropsFor(
      parseDeployConfig({
        webSocketThrottle: { rateLimit: 10, burstLimit: 20 },
        chatSessionTtlMinutes: 90,
        setApiGatewayLoggingRole: true,
      }),
    );
    expect(gateway.webSocketThrottle).toEqual({ rateLimit: 10, burstLimit: 20 });
    expect(gateway.chatSessionTtl?.toMinutes()).toBe(90);
    expect(gateway.setApiGatewayLoggingRole).toBe(true);
    const defaults = stackPropsFor(parseDeployConfig(undefined)).gateway;
    expect(defaults.chatSessionTtl).toBeUndefined();
    expect(defaults.setApiGatewayLoggingRole).toBeUndefined();
  });

  it('maps the failed-sends alarm threshold', () => {
    expect(
      stackPropsFor(parseDeployConfig({ messagesFailedAlarmThreshold: 25 })).gateway.messagesFailedAlarmThreshold,
    ).toBe(25);
    expect(() => parseDeployConfig({ messagesFailedAlarmThreshold: 0 })).toThrow(/messagesFailedAlarmThreshold/);
  });

  it('creates an inactive receipt rule set by default; maps activating it, or an existing set instead', () => {
    const defaults = stackPropsFor(parseDeployConfig(undefined)).gateway;
    expect(defaults).toMatchObject({
      createReceiptRuleSet: undefined,
      activateReceiptRuleSet: undefined,
      existingReceiptRuleSetName: undefined,
    });
    expect(stackPropsFor(parseDeployConfig({ activateReceiptRuleSet: true })).gateway.activateReceiptRuleSet).toBe(
      true,
    );
    const shared = stackPropsFor(parseDeployConfig('{"existingReceiptRuleSetName":"bank-inbound"}')).gateway;
    expect(shared.existingReceiptRuleSetName).toBe('bank-inbound');
  });

  it('leaves SMS delivery status logs off by default; maps turning them on, on existing log groups or new ones', () => {
    expect(stackPropsFor(parseDeployConfig(undefined)).gateway).toMatchObject({
      smsDeliveryStatusLogs: false,
      existingSmsDeliveryStatusLogGroups: undefined,
    });
    expect(stackPropsFor(parseDeployConfig({ smsDeliveryStatusLogs: true })).gateway.smsDeliveryStatusLogs).toBe(true);
    const existing = stackPropsFor(
      parseDeployConfig('{"smsDeliveryStatusLogs":true,"existingSmsDeliveryStatusLogGroups":true}'),
    ).gateway;
    expect(existing).toMatchObject({ smsDeliveryStatusLogs: true, existingSmsDeliveryStatusLogGroups: true });
    expect(() => parseDeployConfig({ existingSmsDeliveryStatusLogGroups: true })).toThrow(
      'existingSmsDeliveryStatusLogGroups',
    );
    expect(() => parseDeployConfig({ smsDeliveryStatusLogs: 'yes' })).toThrow('smsDeliveryStatusLogs');
  });

  it.each([
    [{ existingReceiptRuleSetName: 'bank-inbound', createReceiptRuleSet: true }, 'createReceiptRuleSet'],
    [{ existingReceiptRuleSetName: 'bank-inbound', activateReceiptRuleSet: true }, 'activateReceiptRuleSet'],
    [{ createReceiptRuleSet: false }, 'createReceiptRuleSet'],
    [{ existingReceiptRuleSetName: 'bank inbound!' }, 'existingReceiptRuleSetName'],
  ])('refuses the receipt rule set fields %j naming %s', (raw, field) => {
    expect(() => parseDeployConfig(raw)).toThrow(field);
  });

  it.each([
    [{ chatSessionTtlMinutes: 0 }, 'chatSessionTtlMinutes'],
    [{ webSocketThrottle: { rateLimit: 10 } }, 'webSocketThrottle'],
    [{ alarmEmail: 'not-an-address' }, 'alarmEmail'],
    [{ authorizerCacheTtlSeconds: 7200 }, 'authorizerCacheTtlSeconds'],
    [{ emailDomian: 'typo.example' }, 'emailDomian'],
  ])('refuses %j naming the field', (raw, field) => {
    expect(() => parseDeployConfig(raw)).toThrow(field);
  });
});
