import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalGateway, startLocalGateway } from '../../local/gateway.ts';
import { launchBrowser } from './browser.ts';

/**
 * The escalation story in a real Chromium: the customer gets a card alert by SMS (local console), asks for a chat,
 * opens the link, writes; an agent sees the whole cross-channel timeline and answers, and the answer reaches the
 * open chat. The browser is the Chromium of @sparticuz/chromium, or PARLEY_CHROMIUM_PATH (see ./browser.ts); when it
 * cannot start, this file fails, it never skips.
 */
const artifacts = resolve('test-artifacts/e2e');
const phoneViewport = { width: 390, height: 844 };
const desktopViewport = { width: 1280, height: 900 };

const phone = '+12025550143';
const customerId = 'demo-12025550143';
const alertText = 'did you pay $420.00 at ACME';
const customerText = 'I did not make this payment';
const agentText = 'We have blocked the card; a new one is on its way';

let gateway: LocalGateway | undefined;
let browser: Browser | undefined;
/** Why the browser did not start; every test fails with it. */
let launchError: unknown;
let dataDir: string | undefined;

/** What went wrong in a page: uncaught errors, console errors (CSP violations land there) and 5xx answers. */
const problems: string[] = [];

const open = async (name: string, viewport: { width: number; height: number }, expectedConsole?: RegExp) => {
  if (!browser) throw new Error('the browser did not start');
  const page = await browser.newPage({ viewport });
  page.setDefaultTimeout(15_000);
  page.on('pageerror', (error) => problems.push(`${name}: uncaught ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && !expectedConsole?.test(message.text())) {
      problems.push(`${name}: console error: ${message.text()}`);
    }
  });
  page.on('response', async (response) => {
    if (response.status() >= 500) {
      const request = response.request();
      const body = await response.text().catch(() => '(no body)');
      problems.push(
        `${name}: ${request.method()} ${request.url()} ${request.postData() ?? ''} → ${response.status()} ${body}`,
      );
    }
  });
  return page;
};

const shot = (page: Page, file: string) => page.screenshot({ path: join(artifacts, `${file}.png`), fullPage: true });

/** Every test fails (never skips) with the reason when the browser did not start. */
const base = () => {
  if (!browser) throw launchError ?? new Error('the browser did not start');
  if (!gateway) throw new Error('the local gateway did not start');
  return gateway.baseUrl;
};

describe('escalation in a real browser', () => {
  beforeAll(async () => {
    try {
      browser = await launchBrowser();
    } catch (error) {
      launchError = error;
      return;
    }
    mkdirSync(artifacts, { recursive: true });
    dataDir = mkdtempSync(join(tmpdir(), 'parley-e2e-'));
    gateway = await startLocalGateway({ port: 0, dataDir, logLevel: 'ERROR' });
  });

  afterAll(async () => {
    await browser?.close();
    await gateway?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('takes a card alert from SMS to chat to an agent and back', { timeout: 60_000 }, async () => {
    const baseUrl = base();

    // 1. The customer's phone (local console) gets the demo card alert.
    const consolePage = await open('console', desktopViewport);
    await consolePage.goto(`${baseUrl}/`);
    await consolePage.getByLabel('Phone number (E.164)').fill(phone);
    await consolePage.getByRole('button', { name: 'Send demo card alert to this phone' }).click();
    const thread = consolePage.getByRole('log', { name: 'SMS thread' });
    await thread.getByText(alertText).waitFor();
    await consolePage.getByRole('region', { name: 'Event log' }).getByText('message.sent').first().waitFor();
    await shot(consolePage, '01-console-card-alert');

    // 2. They text CHAT and get a chat link back.
    await consolePage.getByLabel('Reply by SMS').fill('CHAT');
    await consolePage.getByRole('button', { name: 'Send', exact: true }).click();
    await thread.getByText('CHAT', { exact: true }).waitFor();
    const link = thread.locator('a[href*="/chat#"]').first();
    await link.waitFor();
    const href = await link.getAttribute('href');
    expect(href).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/chat#[\w.-]+$/);
    expect(href?.startsWith(`${baseUrl}/chat#`)).toBe(true);
    expect(await link.getAttribute('target')).toBe('_blank');
    expect(await link.getAttribute('rel')).toContain('noopener');
    await shot(consolePage, '02-console-chat-link');

    // 3. The chat page shows the conversation so far, SMS included.
    const chatPage = await open('chat', phoneViewport);
    await chatPage.goto(href as string);
    const chatLog = chatPage.getByRole('log', { name: 'Conversation' });
    await chatLog.getByText(alertText).waitFor();
    await chatLog.getByText('CHAT', { exact: true }).waitFor();
    await chatPage.getByRole('status').getByText('Connected', { exact: true }).waitFor();
    await shot(chatPage, '03-chat-history');

    // 4. The customer writes in the chat; the message is stored and echoed back.
    await chatPage.getByLabel('Your message').fill(customerText);
    await chatPage.getByRole('button', { name: 'Send' }).click();
    await chatLog.locator('li[data-message-id^="msg_"]', { hasText: customerText }).waitFor();
    expect(await chatPage.getByLabel('Your message').inputValue()).toBe('');
    await shot(chatPage, '04-chat-customer-message');

    // 5. An agent signs in, finds the customer in the attention list and reads the whole timeline.
    const events = (await (await fetch(`${baseUrl}/_local/events?type=message.sent`)).json()) as {
      detail: { reference?: string };
    }[];
    const reference = events.map((event) => event.detail.reference).find((ref) => ref?.startsWith('txn-'));
    expect(reference).toBeDefined();

    const agentPage = await open('agent', desktopViewport);
    await agentPage.goto(`${baseUrl}/agent`);
    await agentPage.getByLabel('API key').fill(gateway?.agentKey ?? '');
    await agentPage.getByRole('button', { name: 'Sign in' }).click();
    const attention = agentPage.getByRole('region', { name: 'Needs attention' });
    const item = attention.getByRole('button', { name: customerId });
    await item.waitFor();
    expect(await item.textContent()).toMatch(/In chat|Free text/);
    await item.click();
    const timeline = agentPage.getByRole('log', { name: 'Timeline, oldest first' });
    const alertEntry = timeline.getByRole('listitem').filter({ hasText: alertText });
    await alertEntry.waitFor();
    expect(await alertEntry.textContent()).toContain(`ref ${reference}`);
    await timeline.getByRole('listitem').filter({ hasText: customerText }).waitFor();
    await timeline.getByText('Chat requested (CHAT)').waitFor();
    await agentPage.getByText('open now: replies go there').waitFor();
    await shot(agentPage, '05-agent-timeline');

    // 6. The agent answers; it goes out by chat and reaches the open chat page.
    await agentPage.getByLabel('Reply to the customer').fill(agentText);
    await agentPage.getByRole('button', { name: 'Send reply' }).click();
    await agentPage.getByRole('status').filter({ hasText: 'Sent by chat.' }).waitFor();
    await chatLog.getByText(agentText).waitFor();
    await timeline.getByRole('listitem').filter({ hasText: agentText }).waitFor();
    await shot(agentPage, '06-agent-reply-sent');
    await shot(chatPage, '07-chat-agent-reply');

    // 7. Later the customer texts CALL: the agent sees the callback with its context and completes it.
    await consolePage.getByRole('button', { name: 'Reply CALL' }).click();
    await thread.getByText('an agent will call you back').waitFor();
    const callback = agentPage
      .getByRole('region', { name: 'Callback requests' })
      .locator('li.callback', { hasText: customerId });
    await callback.waitFor();
    expect(await callback.textContent()).toContain(`ref ${reference}`);
    await callback.getByLabel('Note (optional)').fill('Called back: card blocked, new card sent');
    await shot(agentPage, '08-agent-callback');
    await callback.getByRole('button', { name: `Complete callback for ${customerId}` }).click();
    await callback.waitFor({ state: 'detached' });
    await expect
      .poll(async () => {
        const completed = (await (await fetch(`${baseUrl}/_local/events?type=callback.completed`)).json()) as {
          detail: { customerId: string; note?: string };
        }[];
        return completed.map((event) => [event.detail.customerId, event.detail.note]);
      })
      .toEqual([[customerId, 'Called back: card blocked, new card sent']]);

    await agentPage.setViewportSize(phoneViewport);
    await shot(agentPage, '09-agent-phone-width');
    await consolePage.setViewportSize(phoneViewport);
    await shot(consolePage, '10-console-phone-width');

    expect(problems).toEqual([]);
  });

  it('reconnects after a dropped connection, and closes when the link is replaced', { timeout: 30_000 }, async () => {
    const baseUrl = base();
    const otherPhone = '+12025550188';
    const post = (path: string, body: unknown) =>
      fetch(`${baseUrl}${path}`, { method: 'POST', body: JSON.stringify(body) }).then((r) => r.status);
    const chatLinks = async () => {
      const outbox = (await (await fetch(`${baseUrl}/_local/outbox?to=${encodeURIComponent(otherPhone)}`)).json()) as {
        body: string;
      }[];
      return outbox.flatMap((sms) => sms.body.match(/http:\/\/\S+\/chat#\S+/g) ?? []);
    };
    expect(await post('/_local/demo/card-alert', { phone: otherPhone })).toBe(202);
    expect(await post('/_local/sms/inbound', { from: otherPhone, body: 'CHAT' })).toBe(202);
    const [link] = await chatLinks();
    expect(link).toBeDefined();

    const before = new Set(gateway?.webSockets.connectionIds());
    const page = await open('chat-reconnect', phoneViewport);
    const sockets: string[] = [];
    page.on('websocket', (socket) => sockets.push(socket.url()));
    await page.goto(link as string);
    const chatLog = page.getByRole('log', { name: 'Conversation' });
    await chatLog.getByText(alertText).waitFor();
    await page.getByRole('status').getByText('Connected', { exact: true }).waitFor();
    const connectionId = gateway?.webSockets.connectionIds().find((id) => !before.has(id));
    expect(connectionId).toBeDefined();

    // The network drops the socket: the page reconnects on its own and asks for the history again.
    gateway?.webSockets.dropSilently(connectionId as string);
    await expect.poll(() => sockets.length, { timeout: 10_000 }).toBe(2);
    await page.getByRole('status').getByText('Connected', { exact: true }).waitFor();
    await page.getByLabel('Your message').fill('Still there?');
    await page.getByRole('button', { name: 'Send' }).click();
    await chatLog.locator('li[data-message-id^="msg_"]', { hasText: 'Still there?' }).waitFor();
    expect(await chatLog.getByText(alertText).count()).toBe(1);

    // A new CHAT link ends this session: the next frame is refused and the page says so, with no retry loop.
    expect(await post('/_local/sms/inbound', { from: otherPhone, body: 'CHAT' })).toBe(202);
    await expect.poll(async () => (await chatLinks()).length).toBe(2);
    await page.getByLabel('Your message').fill('Hello?');
    await page.getByRole('button', { name: 'Send' }).click();
    await page.getByRole('heading', { name: 'This chat link has expired or is no longer valid' }).waitFor();
    expect(sockets).toHaveLength(2);
    await shot(page, '12-chat-replaced');

    expect(problems).toEqual([]);
  });

  it('shows a garbage or missing chat link as expired, without a retry loop', { timeout: 30_000 }, async () => {
    const baseUrl = base();
    const expired = 'This chat link has expired or is no longer valid';

    const page = await open('chat-garbage', phoneViewport, /WebSocket connection to .* failed/);
    const sockets: string[] = [];
    page.on('websocket', (socket) => sockets.push(socket.url()));
    await page.goto(`${baseUrl}/chat#garbage`);
    await page.getByRole('heading', { name: expired }).waitFor();
    expect(await page.getByRole('button', { name: 'Send' }).count()).toBe(0);
    // Long enough for a first reconnect attempt (1 s backoff) to have shown up, had there been one.
    await page.waitForTimeout(1_500);
    expect(sockets).toHaveLength(1);
    expect(sockets[0]).toContain('token=garbage');
    await shot(page, '11-chat-expired');

    const noToken = await open('chat-no-token', phoneViewport);
    const noTokenSockets: string[] = [];
    noToken.on('websocket', (socket) => noTokenSockets.push(socket.url()));
    await noToken.goto(`${baseUrl}/chat`);
    await noToken.getByRole('heading', { name: expired }).waitFor();
    expect(noTokenSockets).toEqual([]);

    expect(problems).toEqual([]);
  });
});
