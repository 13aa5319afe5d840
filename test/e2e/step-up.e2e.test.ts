import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalGateway, startLocalGateway } from '../../local/gateway.ts';
import { launchBrowser } from './browser.ts';

/**
 * Step-up confirmation in a real Chromium (DESIGN section 16): the demo card alert sent with "ask for a code", answered
 * N from the local console, the code SMS answered from the console, the demo backend blocking the card only then, and
 * the agent console showing the audit trail; and the email link's confirmation page, where opening confirms nothing
 * and the button does, under the page's strict CSP.
 */
const artifacts = resolve('test-artifacts/e2e');
const viewport = { width: 1280, height: 900 };
const phone = '+12025550188';
const customerId = 'demo-12025550188';

let gateway: LocalGateway | undefined;
let browser: Browser | undefined;
let launchError: unknown;
let dataDir: string | undefined;
const problems: string[] = [];

const open = async (name: string) => {
  if (!browser) throw launchError ?? new Error('the browser did not start');
  const page = await browser.newPage({ viewport });
  page.setDefaultTimeout(15_000);
  page.on('pageerror', (error) => problems.push(`${name}: uncaught ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`${name}: console error: ${message.text()}`);
  });
  return page;
};

const shot = (page: Page, file: string) => page.screenshot({ path: join(artifacts, `${file}.png`), fullPage: true });

const eventsOf = async (type: string) =>
  (
    (await (await fetch(`${gateway?.baseUrl}/_local/events?type=${type}`)).json()) as {
      detail: Record<string, unknown>;
    }[]
  ).map((e) => e.detail);

describe('step-up confirmation in a real browser', () => {
  beforeAll(async () => {
    try {
      browser = await launchBrowser();
    } catch (error) {
      launchError = error;
      return;
    }
    mkdirSync(artifacts, { recursive: true });
    dataDir = mkdtempSync(join(tmpdir(), 'parley-e2e-stepup-'));
    gateway = await startLocalGateway({ port: 0, dataDir, logLevel: 'ERROR', deliveryReports: false });
  });

  afterAll(async () => {
    await browser?.close();
    await gateway?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('blocks the card only after the code: console answer N, the code SMS, the code, and the audit for the agent', async () => {
    if (!browser) throw launchError ?? new Error('the browser did not start');
    const baseUrl = gateway?.baseUrl as string;
    const consolePage = await open('console');
    await consolePage.goto(`${baseUrl}/`);
    await consolePage.getByLabel('Phone number (E.164)').fill(phone);
    await consolePage.getByLabel('Ask for a code before the answer counts (step-up)').check();
    await consolePage.getByRole('button', { name: 'Send demo card alert to this phone' }).click();
    const thread = consolePage.getByRole('log', { name: 'SMS thread' });
    await thread.getByText('Did you pay $420.00 at ACME?').waitFor();

    await consolePage.getByRole('button', { name: 'Reply N' }).click();
    const codeSms = thread.getByText(/to confirm, reply \d{6}/);
    await codeSms.waitFor();
    const code = /reply (\d{6})/.exec((await codeSms.textContent()) ?? '')?.[1] ?? '';
    expect(await eventsOf('prompt.answered')).toEqual([]);
    expect(await thread.getByText('blocked your card').count()).toBe(0);
    await shot(consolePage, '30-console-step-up-code');

    await consolePage.getByLabel('Reply by SMS').fill(code);
    await consolePage.getByRole('button', { name: 'Send', exact: true }).click();
    await thread.getByText('We have blocked your card').waitFor();
    const answered = await eventsOf('prompt.answered');
    expect(answered).toEqual([expect.objectContaining({ customerId, answer: 'no', verification: expect.any(Object) })]);
    await shot(consolePage, '31-console-step-up-blocked');

    const agentPage = await open('agent');
    await agentPage.goto(`${baseUrl}/agent`);
    await agentPage.getByLabel('API key').fill(gateway?.agentKey ?? '');
    await agentPage.getByRole('button', { name: 'Sign in' }).click();
    await agentPage.getByLabel('Open a customer by id').fill(customerId);
    await agentPage.getByRole('button', { name: 'Open', exact: true }).click();
    const timeline = agentPage.getByRole('log', { name: 'Timeline, oldest first' });
    await timeline.getByText('Step-up audit trail').click();
    await timeline.getByText(/completed · sms/).waitFor();
    const steps = await timeline.locator('.audit-steps li').allTextContents();
    expect(steps.map((s) => s.split(' · ')[1])).toEqual([
      'answer received',
      'code issued',
      'code sent',
      'try',
      'completed',
    ]);
    expect(steps.join('\n')).not.toContain(code);
    await shot(agentPage, '32-agent-step-up-audit');

    expect(problems).toEqual([]);
  });

  it('shows the email confirmation page without confirming, and confirms on its button', async () => {
    if (!browser) throw launchError ?? new Error('the browser did not start');
    const baseUrl = gateway?.baseUrl as string;
    const email = 'step.e2e@example.com';
    const headers = { authorization: `Bearer ${gateway?.apiKey}`, 'content-type': 'application/json' };
    const sent = await fetch(`${baseUrl}/v1/messages`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        customerId: 'cust-e2e-link',
        to: { email },
        channel: 'email',
        template: 'card-transaction-alert',
        data: { amount: '$99.00', merchant: 'ACME' },
        prompt: { type: 'confirm', expiresInSeconds: 900, verify: 'code' },
        reference: 'txn-e2e-link',
      }),
    });
    expect(sent.status).toBe(202);
    await fetch(`${baseUrl}/_local/email/inbound`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ from: email, text: 'Y' }),
    });
    const mail = gateway?.edges.outbox.list({ to: email }).at(-1)?.body ?? '';
    const link = /(https?:\/\/\S+\/v1\/confirm\/\S+)/.exec(mail)?.[1] ?? '';
    expect(link).not.toBe('');

    const page = await open('confirm');
    const violations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
    });
    await page.goto(link);
    await page.getByRole('heading', { name: 'Confirm your answer to Demo Bank' }).waitFor();
    expect(await page.getByText('Yes', { exact: true }).count()).toBe(1);
    expect((await eventsOf('prompt.answered')).filter((d) => d.customerId === 'cust-e2e-link')).toEqual([]);
    await shot(page, '33-confirm-page');

    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.getByRole('heading', { name: 'Confirmed' }).waitFor();
    expect((await eventsOf('prompt.answered')).filter((d) => d.customerId === 'cust-e2e-link')).toEqual([
      expect.objectContaining({ answer: 'yes', verification: expect.any(Object) }),
    ]);
    await shot(page, '34-confirmed-page');
    expect(violations).toEqual([]);
    // The confirmation page's own style loads under its CSP: the button is styled, not the browser's default.
    await page.goto(link);
    await page.getByRole('heading', { name: 'This link is not valid' }).waitFor();
    expect(problems.filter((p) => !p.includes('404'))).toEqual([]);
  });
});
