import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { validateEvent } from '../../functions/domain/event-schemas.ts';
import type { OpenPrompt } from '../../functions/domain/model.ts';
import {
  createConfirmationLinkToken,
  createStepUp,
  generateStepUpCode,
  hashStepUpCode,
  isStepUpCode,
  redactCode,
  type StepUpInbound,
  type StepUpState,
  stepUpPolicy,
  verifyConfirmationLinkToken,
} from '../../functions/domain/step-up.ts';
import { at, FakeClock, tenantId } from './fakes.ts';

const secret = 'test-token-secret-0123456789abcdef';
const promptMessageId = `msg_${'P'.repeat(26)}`;
const phone = '+12025550143';
const otherPhone = '+12025550199';
const email = 'alice@example.com';
const minute = 60_000;

const prompt = (overrides: Partial<OpenPrompt> = {}): OpenPrompt => ({
  messageId: promptMessageId,
  type: 'confirm',
  expiresAt: '2025-06-02T13:00:00.000Z',
  reference: 'txn-981',
  summary: 'Card payment of $950',
  createdAt: '2025-06-02T11:00:00.000Z',
  ...overrides,
});

let inboundCounter = 0;
const inbound = (text: string, overrides: Partial<StepUpInbound> = {}): StepUpInbound => {
  inboundCounter += 1;
  return {
    inboundMessageId: `sns-${inboundCounter}`,
    messageId: `msg_${String(inboundCounter).padStart(26, '0')}`,
    channel: 'sms',
    from: phone,
    text,
    ...overrides,
  };
};

/** A step-up whose codes come from a list, in order. */
const stepUpWith = (...codes: string[]) => {
  const queue = [...codes];
  return createStepUp({
    secret,
    generateCode: () => {
      const code = queue.shift();
      if (code === undefined) throw new Error('no more test codes');
      return code;
    },
  });
};

/** Starts a verification of a Y answer by SMS, at the clock's time. */
const started = (clock: FakeClock, codes: string[] = ['482913', '551207', '903311', '120044', '777001', '640022']) => {
  const stepUp = stepUpWith(...codes);
  const answer = inbound('Y');
  const { state, decision } = stepUp.begin(
    { tenantId, tenantName: 'Demo Bank', customerId: 'cust-42', prompt: prompt(), answer: 'yes', inbound: answer },
    clock.now(),
  );
  return { stepUp, state, decision, answer };
};

const eventTypes = (events: { type: string }[]) => events.map((e) => e.type);

describe('step-up confirmation', () => {
  describe('codes', () => {
    it('draws 6 digits, including leading zeros, uniformly over 10^6 (statistical sanity)', () => {
      // Prepare
      const draws = 200_000;
      const firstDigit = new Array<number>(10).fill(0);
      const lastDigit = new Array<number>(10).fill(0);
      const malformed: string[] = [];
      let belowTenThousand = 0;
      let sum = 0;

      // Act
      for (let i = 0; i < draws; i += 1) {
        const code = generateStepUpCode();
        if (!/^\d{6}$/.test(code)) malformed.push(code);
        const value = Number(code);
        firstDigit[Number(code[0])] = (firstDigit[Number(code[0])] ?? 0) + 1;
        lastDigit[Number(code[5])] = (lastDigit[Number(code[5])] ?? 0) + 1;
        if (value < 10_000) belowTenThousand += 1;
        sum += value;
      }

      // Assess: chi-square with 9 degrees of freedom, 60 is far past p = 1e-8
      expect(malformed).toEqual([]);
      const chiSquare = (counts: number[]) =>
        counts.reduce((total, count) => total + (count - draws / 10) ** 2 / (draws / 10), 0);
      expect(chiSquare(firstDigit)).toBeLessThan(60);
      expect(chiSquare(lastDigit)).toBeLessThan(60);
      // 1% of codes are below 010000 (printed with two leading zeros): about 2000 of 200000
      expect(belowTenThousand).toBeGreaterThan(1_600);
      expect(belowTenThousand).toBeLessThan(2_400);
      expect(sum / draws).toBeGreaterThan(495_000);
      expect(sum / draws).toBeLessThan(505_000);
    });

    it('keeps only an HMAC of the code, bound to tenant and prompt, compared exactly', () => {
      // Prepare
      const code = '482913';

      // Act
      const hash = hashStepUpCode(secret, tenantId, promptMessageId, code);

      // Assess
      expect(hash).not.toContain(code);
      expect(hash).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(isStepUpCode(secret, tenantId, promptMessageId, code, hash)).toBe(true);
      expect(isStepUpCode(secret, tenantId, promptMessageId, '482914', hash)).toBe(false);
      expect(isStepUpCode(secret, 'other-bank', promptMessageId, code, hash)).toBe(false);
      expect(isStepUpCode(secret, tenantId, `msg_${'Q'.repeat(26)}`, code, hash)).toBe(false);
      expect(isStepUpCode('another-secret', tenantId, promptMessageId, code, hash)).toBe(false);
      expect(isStepUpCode(secret, tenantId, promptMessageId, code, hash.slice(0, -1))).toBe(false);
    });

    it('redacts the code from a reply text before it is stored or logged', () => {
      // Act
      const redacted = redactCode('Demo Bank: to confirm, reply 482913. The code is valid for 5 minutes.');

      // Assess
      expect(redacted).toBe('Demo Bank: to confirm, reply ******. The code is valid for 5 minutes.');
    });
  });

  describe('beginning', () => {
    it('replies with the code on the channel of the answer and emits nothing yet', () => {
      // Prepare
      const clock = new FakeClock();

      // Act
      const { state, decision } = started(clock);

      // Assess
      expect(decision.kind).toBe('code_sent');
      expect(decision.events).toEqual([]);
      expect(decision.replies).toEqual([
        {
          kind: 'step_up_code',
          channel: 'sms',
          text: 'Demo Bank: to confirm, reply 482913. The code is valid for 5 minutes. Never share it.',
        },
      ]);
      expect(state.outcome).toEqual({ status: 'pending' });
      expect(state.expiresAt).toBe('2025-06-02T12:05:00.000Z');
      expect(state.triesUsed).toBe(0);
      expect(state.version).toBe(1);
      expect(state.pending).toMatchObject({ answer: 'yes', raw: 'Y', channel: 'sms', address: '+1202***0143' });
    });

    it('never keeps the code or the full number in the state', () => {
      // Prepare
      const clock = new FakeClock();
      const { stepUp, state } = started(clock);

      // Act
      const after = stepUp.onInbound(state, inbound('111111'), clock.now()).state;

      // Assess
      for (const json of [JSON.stringify(state), JSON.stringify(after)]) {
        expect(json).not.toContain('482913');
        expect(json).not.toContain(phone);
        expect(json).not.toContain('5550143');
      }
      expect(JSON.stringify(after)).not.toContain('111111');
    });

    it('lets the code end with the prompt when the prompt expires first', () => {
      // Prepare
      const stepUp = stepUpWith('482913');

      // Act
      const { state } = stepUp.begin(
        {
          tenantId,
          tenantName: 'Demo Bank',
          customerId: 'cust-42',
          prompt: prompt({ expiresAt: '2025-06-02T12:02:00.000Z' }),
          answer: 'yes',
          inbound: inbound('Y'),
        },
        at('2025-06-02T12:00:00.000Z'),
      );

      // Assess
      expect(state.expiresAt).toBe('2025-06-02T12:02:00.000Z');
    });
  });

  describe('the right code', () => {
    it('from the same address completes with prompt.answered and its verification', () => {
      // Prepare
      const clock = new FakeClock();
      const { stepUp, state } = started(clock);
      clock.advance(2 * minute);
      const code = inbound(' 482 913 ');

      // Act
      const { state: after, decision } = stepUp.onInbound(state, code, clock.now());

      // Assess
      expect(decision.kind).toBe('completed');
      expect(decision.replies).toEqual([]);
      expect(decision.events).toHaveLength(1);
      const event = validateEvent(decision.events[0] as { type: string; detail: unknown });
      expect(event).toEqual({
        type: 'prompt.answered',
        detail: {
          tenantId,
          customerId: 'cust-42',
          occurredAt: '2025-06-02T12:02:00.000Z',
          messageId: code.messageId,
          reference: 'txn-981',
          promptMessageId,
          channel: 'sms',
          raw: 'Y',
          answer: 'yes',
          verification: { method: 'code', verifiedAt: '2025-06-02T12:02:00.000Z' },
        },
      });
      expect(after.outcome).toEqual({ status: 'completed', at: '2025-06-02T12:02:00.000Z', via: 'code' });
      expect(after.version).toBe(state.version + 1);
    });

    it('from another address does not count: no try used, nothing completed, the customer can still confirm', () => {
      // Prepare
      const clock = new FakeClock();
      const { stepUp, state } = started(clock);

      // Act
      const foreign = stepUp.onInbound(state, inbound('482913', { from: otherPhone }), clock.now());
      const own = stepUp.onInbound(foreign.state, inbound('482913'), clock.now());

      // Assess
      expect(foreign.decision).toMatchObject({ kind: 'ignored', reason: 'other_address', replies: [], events: [] });
      expect(foreign.state.triesUsed).toBe(0);
      expect(foreign.state.outcome.status).toBe('pending');
      expect(foreign.state.audit.at(-1)).toMatchObject({
        step: 'try',
        matched: false,
        counted: false,
        reason: 'other_address',
        address: '+1202***0199',
      });
      expect(own.decision.kind).toBe('completed');
    });

    it('by email from the customer address is not the SMS address that got the code', () => {
      // Prepare
      const clock = new FakeClock();
      const { stepUp, state } = started(clock);

      // Act
      const { decision } = stepUp.onInbound(state, inbound('482913', { channel: 'email', from: email }), clock.now());

      // Assess
      expect(decision).toMatchObject({ kind: 'ignored', reason: 'other_address' });
    });

    it('after 5 minutes is refused: verification_failed (expired), nothing approved', () => {
      // Prepare
      const clock = new FakeClock();
      const { stepUp, state } = started(clock);
      clock.advance(5 * minute);

      // Act
      const { state: after, decision } = stepUp.onInbound(state, inbound('482913'), clock.now());

      // Assess
      expect(decision.kind).toBe('failed');
      expect(decision.reason).toBe('expired');
      expect(eventTypes(decision.events)).toEqual(['prompt.verification_failed']);
      expect(validateEvent(decision.events[0] as { type: string; detail: unknown }).detail).toMatchObject({
        reason: 'expired',
        promptMessageId,
        channel: 'sms',
      });
      expect(decision.replies.map((r) => r.kind)).toEqual(['step_up_expired']);
      expect(after.outcome).toMatchObject({ status: 'failed', reason: 'expired' });
    });

    it('a second before the 5 minutes end still completes', () => {
      // Prepare
      const clock = new FakeClock();
      const { stepUp, state } = started(clock);
      clock.advance(5 * minute - 1_000);

      // Act
      const { decision } = stepUp.onInbound(state, inbound('482913'), clock.now());

      // Assess
      expect(decision.kind).toBe('completed');
    });
  });

  describe('wrong codes', () => {
    it('use a try each and say how many are left; the third fails; a fourth, even right, approves nothing', () => {
      // Prepare
      const clock = new FakeClock();
      const { stepUp, state } = started(clock);

      // Act
      const first = stepUp.onInbound(state, inbound('000001'), clock.now());
      const second = stepUp.onInbound(first.state, inbound('000002'), clock.now());
      const third = stepUp.onInbound(second.state, inbound('000003'), clock.now());
      const fourth = stepUp.onInbound(third.state, inbound('482913'), clock.now());

      // Assess
      expect(first.decision).toMatchObject({ kind: 'wrong_code', triesLeft: 2, events: [] });
      expect(first.decision.replies[0]?.text).toBe('Demo Bank: that code is not right. 2 tries left.');
      expect(second.decision.replies[0]?.text).toBe('Demo Bank: that code is not right. 1 try left.');
      expect(third.decision).toMatchObject({ kind: 'failed', reason: 'wrong_code', triesLeft: 0 });
      expect(eventTypes(third.decision.events)).toEqual(['prompt.verification_failed']);
      expect(validateEvent(third.decision.events[0] as { type: string; detail: unknown }).detail).toMatchObject({
        reason: 'wrong_code',
        attempts: 3,
      });
      expect(third.state.outcome).toMatchObject({ status: 'failed', reason: 'wrong_code' });
      expect(fourth.decision).toMatchObject({ kind: 'ignored', reason: 'ended', replies: [], events: [] });
      expect(fourth.state).toBe(third.state);
    });

    it('never complete, whatever the wrong codes (property)', () => {
      // Prepare
      const clock = new FakeClock();
      const { stepUp, state } = started(clock);
      const wrongCode = fc
        .integer({ min: 0, max: 999_999 })
        .map((n) => n.toString().padStart(6, '0'))
        .filter((code) => code !== '482913');

      // Act / Assess
      fc.assert(
        fc.property(fc.array(wrongCode, { minLength: 1, maxLength: 6 }), (codes) => {
          let current: StepUpState = state;
          for (const code of codes) {
            const { state: next, decision } = stepUp.onInbound(current, inbound(code), clock.now());
            expect(decision.kind).not.toBe('completed');
            expect(eventTypes(decision.events)).not.toContain('prompt.answered');
            current = next;
          }
          expect(current.outcome.status).not.toBe('completed');
          expect(current.triesUsed).toBeLessThanOrEqual(stepUpPolicy.maxTries);
        }),
      );
    });
  });

  describe('in between', () => {
    it('STOP wins: the verification is cancelled, nothing approved, no further replies', () => {
      // Prepare
      const clock = new FakeClock();
      const { stepUp, state } = started(clock);

      // Act
      const stop = stepUp.onInbound(state, inbound('Stop'), clock.now());
      const code = stepUp.onInbound(stop.state, inbound('482913'), clock.now());
      const answer = stepUp.onInbound(stop.state, inbound('Y'), clock.now());

      // Assess
      expect(stop.decision).toMatchObject({ kind: 'cancelled', passOn: true, replies: [], events: [] });
      expect(stop.state.outcome).toMatchObject({ status: 'cancelled', keyword: 'STOP' });
      expect(code.decision).toMatchObject({ kind: 'ignored', replies: [], events: [] });
      expect(answer.decision).toMatchObject({ kind: 'ignored', replies: [], events: [] });
    });

    it('a new answer (N after Y) restarts with a new code; the old code no longer works', () => {
      // Prepare
      const clock = new FakeClock();
      const { stepUp, state } = started(clock);
      clock.advance(4 * minute);

      // Act
      const restart = stepUp.onInbound(state, inbound('n'), clock.now());
      const oldCode = stepUp.onInbound(restart.state, inbound('482913'), clock.now());
      clock.advance(3 * minute);
      const newCode = stepUp.onInbound(oldCode.state, inbound('551207'), clock.now());

      // Assess
      expect(restart.decision.kind).toBe('code_sent');
      expect(restart.decision.replies[0]?.text).toContain('551207');
      expect(restart.state.pending).toMatchObject({ answer: 'no', raw: 'n' });
      expect(restart.state.expiresAt).toBe('2025-06-02T12:09:00.000Z');
      expect(oldCode.decision.kind).toBe('wrong_code');
      expect(newCode.decision.kind).toBe('completed');
      expect(newCode.decision.events[0]?.detail).toMatchObject({ answer: 'no', raw: 'n' });
    });

    it('passes on what is not for the verification (a keyword, free text), changing nothing', () => {
      // Prepare
      const clock = new FakeClock();
      const { stepUp, state } = started(clock);

      // Act
      const results = ['BAL', 'HELP', 'Is this really you?', '12'].map((text) =>
        stepUp.onInbound(state, inbound(text), clock.now()),
      );

      // Assess
      for (const { state: after, decision } of results) {
        expect(decision).toMatchObject({ kind: 'not_step_up', passOn: true, replies: [], events: [] });
        expect(after).toBe(state);
      }
    });

    it('sends at most maxCodes codes for one prompt', () => {
      // Prepare
      const clock = new FakeClock();
      const { stepUp, state: first } = started(clock);
      let state = first;

      // Act
      const kinds: string[] = [];
      for (let i = 0; i < stepUpPolicy.maxCodes; i += 1) {
        const result = stepUp.onInbound(state, inbound('Y'), clock.now());
        kinds.push(result.decision.kind);
        state = result.state;
      }

      // Assess: begin sent the first code, so four more are sent and the fifth answer is ignored
      expect(kinds).toEqual(['code_sent', 'code_sent', 'code_sent', 'code_sent', 'ignored']);
      expect(state.round).toBe(stepUpPolicy.maxCodes);
    });
  });

  describe('redelivery', () => {
    it('of a wrong code replays the same decision and uses no second try', () => {
      // Prepare
      const clock = new FakeClock();
      const { stepUp, state } = started(clock);
      const wrong = inbound('000001');
      const first = stepUp.onInbound(state, wrong, clock.now());

      // Act
      const again = stepUp.onInbound(first.state, wrong, clock.now());

      // Assess
      expect(again.state).toBe(first.state);
      expect(again.decision).toEqual({ ...first.decision, replay: true });
      expect(again.state.triesUsed).toBe(1);
    });

    it('of the right code announces the same prompt.answered again, changing nothing', () => {
      // Prepare
      const clock = new FakeClock();
      const { stepUp, state } = started(clock);
      const right = inbound('482913');
      const first = stepUp.onInbound(state, right, clock.now());
      clock.advance(minute);

      // Act
      const again = stepUp.onInbound(first.state, right, clock.now());

      // Assess
      expect(again.state).toBe(first.state);
      expect(again.decision.kind).toBe('completed');
      expect(again.decision.events).toEqual(first.decision.events);
      expect(again.decision.replay).toBe(true);
    });

    it('of the answer that sent the code sends no code again (a code is never kept) and issues none', () => {
      // Prepare
      const clock = new FakeClock();
      const stepUp = stepUpWith('482913', '551207');
      const answer = inbound('Y');
      const { state } = stepUp.begin(
        { tenantId, tenantName: 'Demo Bank', customerId: 'cust-42', prompt: prompt(), answer: 'yes', inbound: answer },
        clock.now(),
      );

      // Act
      const again = stepUp.onInbound(state, answer, clock.now());

      // Assess
      expect(again.state).toBe(state);
      expect(again.decision).toMatchObject({ kind: 'code_sent', replay: true, replies: [], events: [] });
    });

    it('keeps a bounded list of processed inbound ids', () => {
      // Prepare
      const clock = new FakeClock();
      const { stepUp, state: first } = started(clock);
      let state = first;

      // Act: codes from another address are remembered but never counted
      for (let i = 0; i < stepUpPolicy.maxProcessed + 10; i += 1) {
        state = stepUp.onInbound(state, inbound('123456', { from: otherPhone }), clock.now()).state;
      }

      // Assess
      expect(state.processed).toHaveLength(stepUpPolicy.maxProcessed);
      expect(state.processed.at(-1)?.inboundMessageId).toBe(`sns-${inboundCounter}`);
    });
  });

  describe('concurrent tries', () => {
    /** A store that writes only on the version read, as the DynamoDB adapter must (condition on `version`). */
    class VersionedStore {
      constructor(public current: StepUpState) {}
      read(): StepUpState {
        return structuredClone(this.current);
      }
      write(expectedVersion: number, next: StepUpState): boolean {
        if (this.current.version !== expectedVersion) return false;
        this.current = structuredClone(next);
        return true;
      }
    }

    it('cannot beat the limit: the losing write is re-judged on the fresh state', () => {
      // Prepare: two wrong tries already, then two more wrong codes arrive at once
      const clock = new FakeClock();
      const { stepUp, state } = started(clock);
      const two = stepUp.onInbound(
        stepUp.onInbound(state, inbound('000001'), clock.now()).state,
        inbound('000002'),
        clock.now(),
      ).state;
      const store = new VersionedStore(two);
      const left = inbound('000003');
      const right = inbound('000004');
      const readByLeft = store.read();
      const readByRight = store.read();

      // Act
      const leftResult = stepUp.onInbound(readByLeft, left, clock.now());
      const rightResult = stepUp.onInbound(readByRight, right, clock.now());
      const leftWritten = store.write(readByLeft.version, leftResult.state);
      const rightWritten = store.write(readByRight.version, rightResult.state);
      const retry = stepUp.onInbound(store.read(), right, clock.now());

      // Assess
      expect(leftResult.state.version).toBe(two.version + 1);
      expect(rightResult.state.version).toBe(two.version + 1);
      expect(leftWritten).toBe(true);
      expect(rightWritten).toBe(false);
      expect(leftResult.decision.kind).toBe('failed');
      expect(retry.decision).toMatchObject({ kind: 'ignored', reason: 'ended', events: [] });
      expect(store.current.triesUsed).toBe(stepUpPolicy.maxTries);
    });
  });

  describe('expiry sweep', () => {
    it('fails a pending verification past its expiry, once, without a reply', () => {
      // Prepare
      const clock = new FakeClock();
      const { stepUp, state } = started(clock);

      // Act
      const early = stepUp.expireIfDue(state, clock.now() + 4 * minute);
      const due = stepUp.expireIfDue(state, clock.now() + 5 * minute);
      const twice = stepUp.expireIfDue(due.state, clock.now() + 6 * minute);

      // Assess
      expect(early.state).toBe(state);
      expect(due.decision).toMatchObject({ kind: 'failed', reason: 'expired', replies: [] });
      expect(eventTypes(due.decision.events)).toEqual(['prompt.verification_failed']);
      expect(twice.state).toBe(due.state);
      expect(twice.decision.events).toEqual([]);
    });
  });

  describe('email confirmation link', () => {
    const claims = { tenantId, promptMessageId, answer: 'yes', exp: Math.floor(at('2025-06-02T12:05:00.000Z') / 1000) };
    const now = at('2025-06-02T12:00:00.000Z');

    it('round-trips a URL-safe token', () => {
      // Act
      const token = createConfirmationLinkToken(secret, claims);

      // Assess
      expect(token).toMatch(/^[A-Za-z0-9._-]+$/);
      expect(encodeURIComponent(token)).toBe(token);
      expect(verifyConfirmationLinkToken(secret, token, now)).toEqual(claims);
    });

    it('is invalid when any character is changed, signed by another secret, or expired', () => {
      // Prepare
      const token = createConfirmationLinkToken(secret, claims);
      const tampered = [...token].map((char, i) => {
        const swapped = char === 'A' ? 'B' : 'A';
        return `${token.slice(0, i)}${swapped}${token.slice(i + 1)}`;
      });
      const otherAnswer = token.replace(
        Buffer.from('yes').toString('base64url'),
        Buffer.from('no').toString('base64url'),
      );

      // Act / Assess
      for (const forged of [...tampered, otherAnswer]) {
        expect(verifyConfirmationLinkToken(secret, forged, now)).toBeUndefined();
      }
      expect(verifyConfirmationLinkToken('another-secret', token, now)).toBeUndefined();
      expect(verifyConfirmationLinkToken(secret, token, claims.exp * 1000)).toBeUndefined();
      expect(verifyConfirmationLinkToken(secret, token, claims.exp * 1000 - 1)).toEqual(claims);
    });

    const startedByEmail = (clock: FakeClock) =>
      stepUpWith('482913').begin(
        {
          tenantId,
          tenantName: 'Demo Bank',
          customerId: 'cust-42',
          prompt: prompt(),
          answer: 'yes',
          inbound: inbound('Yes', { channel: 'email', from: email }),
        },
        clock.now(),
      );

    it('comes with the email code reply; a POST of it completes like the right code', () => {
      // Prepare
      const clock = new FakeClock();
      const stepUp = stepUpWith();
      const { state, decision } = startedByEmail(clock);
      const token = decision.replies[0]?.linkToken as string;
      clock.advance(minute);

      // Act
      const { state: after, decision: confirmed } = stepUp.confirmByLink(state, { method: 'POST', token }, clock.now());

      // Assess
      expect(token).toBeTruthy();
      expect(verifyConfirmationLinkToken(secret, token, clock.now())).toMatchObject({ answer: 'yes' });
      expect(confirmed.kind).toBe('completed');
      expect(validateEvent(confirmed.events[0] as { type: string; detail: unknown }).detail).toMatchObject({
        channel: 'email',
        answer: 'yes',
        raw: 'Yes',
        verification: { method: 'code', verifiedAt: '2025-06-02T12:01:00.000Z' },
      });
      expect(after.outcome).toMatchObject({ status: 'completed', via: 'link' });
      expect(after.audit.map((entry) => entry.step)).toEqual([
        'answer_received',
        'code_issued',
        'link_confirmed',
        'completed',
      ]);
    });

    it.each(['GET', 'HEAD', 'get'])('never confirms on %s (mail scanners open links)', (method) => {
      // Prepare
      const clock = new FakeClock();
      const { state, decision } = startedByEmail(clock);
      const token = decision.replies[0]?.linkToken as string;

      // Act
      const result = createStepUp({ secret }).confirmByLink(state, { method, token }, clock.now());

      // Assess
      expect(result.state).toBe(state);
      expect(result.decision).toMatchObject({ kind: 'ignored', reason: 'not_post', events: [] });
    });

    it('refuses a link for another answer, a tampered or expired one, and replays a second POST', () => {
      // Prepare
      const clock = new FakeClock();
      const stepUp = createStepUp({ secret });
      const { state, decision } = startedByEmail(clock);
      const token = decision.replies[0]?.linkToken as string;
      const forNo = createConfirmationLinkToken(secret, { ...claims, answer: 'no' });
      const tampered = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;

      // Act
      const wrongAnswer = stepUp.confirmByLink(state, { method: 'POST', token: forNo }, clock.now());
      const forged = stepUp.confirmByLink(state, { method: 'POST', token: tampered }, clock.now());
      const late = stepUp.confirmByLink(state, { method: 'POST', token }, clock.now() + 5 * minute);
      const first = stepUp.confirmByLink(state, { method: 'POST', token }, clock.now());
      const second = stepUp.confirmByLink(first.state, { method: 'POST', token }, clock.now());

      // Assess
      for (const refused of [wrongAnswer, forged, late]) {
        expect(refused.state).toBe(state);
        expect(refused.decision).toMatchObject({ kind: 'ignored', reason: 'invalid_link', events: [] });
      }
      expect(first.decision.events).toHaveLength(1);
      expect(second.state).toBe(first.state);
      expect(second.decision).toMatchObject({ kind: 'completed', replay: true, events: [] });
    });
  });

  describe('audit trail', () => {
    it('records every step with times, channel, masked address and provider ids, never the code', () => {
      // Prepare
      const clock = new FakeClock();
      const { stepUp, state, answer } = started(clock);
      clock.advance(minute);
      const sent = stepUp.recordCodeSent(state, 'sns-out-1', clock.now());
      clock.advance(minute);
      const wrong = inbound('000001');
      const right = inbound('482913');

      // Act
      const afterWrong = stepUp.onInbound(sent, wrong, clock.now()).state;
      const done = stepUp.onInbound(afterWrong, right, clock.now()).state;

      // Assess
      expect(done.audit).toEqual([
        {
          step: 'answer_received',
          at: '2025-06-02T12:00:00.000Z',
          channel: 'sms',
          address: '+1202***0143',
          providerMessageId: answer.inboundMessageId,
          answer: 'yes',
          raw: 'Y',
        },
        {
          step: 'code_issued',
          at: '2025-06-02T12:00:00.000Z',
          channel: 'sms',
          address: '+1202***0143',
          expiresAt: '2025-06-02T12:05:00.000Z',
          round: 1,
        },
        {
          step: 'code_sent',
          at: '2025-06-02T12:01:00.000Z',
          channel: 'sms',
          address: '+1202***0143',
          providerMessageId: 'sns-out-1',
        },
        {
          step: 'try',
          at: '2025-06-02T12:02:00.000Z',
          channel: 'sms',
          address: '+1202***0143',
          providerMessageId: wrong.inboundMessageId,
          matched: false,
          counted: true,
        },
        {
          step: 'try',
          at: '2025-06-02T12:02:00.000Z',
          channel: 'sms',
          address: '+1202***0143',
          providerMessageId: right.inboundMessageId,
          matched: true,
          counted: true,
        },
        {
          step: 'completed',
          at: '2025-06-02T12:02:00.000Z',
          channel: 'sms',
          address: '+1202***0143',
          providerMessageId: right.inboundMessageId,
        },
      ]);
      const json = JSON.stringify(done.audit);
      expect(json).not.toContain('482913');
      expect(json).not.toContain('000001');
      expect(json).not.toContain(phone);
    });

    it('is append-only: every transition keeps the earlier entries as they were', () => {
      // Prepare
      const clock = new FakeClock();
      const { stepUp, state } = started(clock);
      const texts = ['000001', 'N', 'STOP'];

      // Act
      const states = [state];
      for (const text of texts)
        states.push(stepUp.onInbound(states.at(-1) as StepUpState, inbound(text), clock.now()).state);

      // Assess
      for (let i = 1; i < states.length; i += 1) {
        const before = (states[i - 1] as StepUpState).audit;
        const after = (states[i] as StepUpState).audit;
        expect(after.length).toBeGreaterThan(before.length);
        expect(after.slice(0, before.length)).toEqual(before);
      }
      expect(states.at(-1)?.audit.at(-1)).toMatchObject({ step: 'cancelled', keyword: 'STOP' });
    });
  });
});
