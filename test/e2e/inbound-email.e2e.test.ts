import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalGateway, startLocalGateway } from '../../local/gateway.ts';
import { launchBrowser } from './browser.ts';

/**
 * The email loop in a real Chromium: the demo customer gets the card alert by email in the local console, answers
 * N from the console's reply box (through SES's receipt path), and the agent sees the trimmed reply with the whole
 * email a click away. The browser is the one ./browser.ts launches; when it cannot start, this file fails.
 */
const artifacts = resolve('test-artifacts/e2e');
const viewport = { width: 1280, height: 900 };

const phone = '+12025550177';
const email = 'ana.e2e@example.com';
const customerId = 'demo-12025550177';
const alertText = 'We saw a card payment of $420.00 at ACME';

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
  page.on('response', async (response) => {
    if (response.status() >= 500) {
      const body = await response.text().catch(() => '(no body)');
      problems.push(`${name}: ${response.request().method()} ${response.url()} → ${response.status()} ${body}`);
    }
  });
  return page;
};

const shot = (page: Page, file: string) => page.screenshot({ path: join(artifacts, `${file}.png`), fullPage: true });

describe('answering by email in a real browser', () => {
  beforeAll(async () => {
    try {
      browser = await launchBrowser();
    } catch (error) {
      launchError = error;
      return;
    }
    mkdirSync(artifacts, { recursive: true });
    dataDir = mkdtempSync(join(tmpdir(), 'parley-e2e-mail-'));
    gateway = await startLocalGateway({ port: 0, dataDir, logLevel: 'ERROR' });
  });

  afterAll(async () => {
    await browser?.close();
    await gateway?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers the emailed card alert N in the console; the agent sees the reply and the whole email', async () => {
    if (!browser) throw launchError ?? new Error('the browser did not start');
    const baseUrl = gateway?.baseUrl as string;

    const consolePage = await open('console');
    await consolePage.goto(`${baseUrl}/`);
    await consolePage.getByLabel('Phone number (E.164)').fill(phone);
    await consolePage.getByLabel('Email address').fill(email);
    await consolePage.getByRole('button', { name: 'Send demo card alert to this email' }).click();
    const mailThread = consolePage.getByRole('log', { name: 'Email thread' });
    await mailThread.getByText(alertText).waitFor();
    await mailThread.getByText('Did you pay $420.00 at ACME?').waitFor();
    await shot(consolePage, '20-console-email-alert');

    await consolePage.getByLabel('Reply by email').fill('N');
    await consolePage.getByRole('button', { name: 'Send email' }).click();
    await mailThread.locator('li.mail-sent', { hasText: 'N' }).waitFor();
    // The thread may show the email (it is logged as it goes in) a moment before the POST answers and the box clears.
    await expect.poll(() => consolePage.getByLabel('Reply by email').inputValue()).toBe('');
    const events = consolePage.getByRole('region', { name: 'Event log' });
    await events.getByText('prompt.answered').waitFor();
    await expect
      .poll(async () => {
        const answered = (await (await fetch(`${baseUrl}/_local/events?type=prompt.answered`)).json()) as {
          detail: { customerId: string; answer: string; channel: string };
        }[];
        return answered.map(({ detail }) => [detail.customerId, detail.answer, detail.channel]);
      })
      .toEqual([[customerId, 'no', 'email']]);
    // The demo backend blocks the card, answering by email (the channel the customer used), in the same thread.
    await mailThread.getByText('We have blocked your card').waitFor();
    expect(await consolePage.getByRole('log', { name: 'SMS thread' }).getByText('blocked your card').count()).toBe(0);
    await shot(consolePage, '21-console-email-answered');

    const agentPage = await open('agent');
    await agentPage.goto(`${baseUrl}/agent`);
    await agentPage.getByLabel('API key').fill(gateway?.agentKey ?? '');
    await agentPage.getByRole('button', { name: 'Sign in' }).click();
    await agentPage.getByLabel('Open a customer by id').fill(customerId);
    await agentPage.getByRole('button', { name: 'Open', exact: true }).click();
    const timeline = agentPage.getByRole('log', { name: 'Timeline, oldest first' });
    await timeline.locator('li.entry-out', { hasText: alertText }).waitFor();
    const reply = timeline.locator('li.entry-in', { hasText: 'Re: Did you pay $420.00 at ACME?' });
    await reply.waitFor();
    expect(await reply.locator('.text').first().textContent()).toBe('N');
    const whole = reply.getByText('Whole email as received');
    expect(await reply.getByText('wrote:').isVisible()).toBe(false);
    await whole.click();
    await reply.getByText(/wrote:/).waitFor();
    expect(await reply.locator('details .text').textContent()).toContain(`> ${alertText}`);
    await shot(agentPage, '22-agent-email-reply');

    expect(problems).toEqual([]);
  });
});
