import { describe, expect, it } from 'vitest';
import { normaliseReply } from '../../functions/domain/keywords.ts';
import type { Customer, OpenPrompt, PromptAnswer } from '../../functions/domain/model.ts';
import {
  answerFor,
  hintFor,
  type MatchInput,
  matchPrompt,
  whichQuestion,
} from '../../functions/domain/prompt-matcher.ts';
import { at, tenantId } from './fakes.ts';

const now = at('2025-06-02T12:00:00.000Z');
const inboundId = 'msg_INBOUND';

const confirmPrompt = (messageId: string, overrides: Partial<OpenPrompt> = {}): OpenPrompt => ({
  messageId,
  type: 'confirm',
  expiresAt: '2025-06-02T13:00:00.000Z',
  summary: `Card alert ${messageId}`,
  createdAt: '2025-06-02T11:00:00.000Z',
  ...overrides,
});

const choicePrompt = (messageId: string, overrides: Partial<OpenPrompt> = {}): OpenPrompt =>
  confirmPrompt(messageId, {
    type: 'choice',
    options: [
      { key: '1', value: 'pay_now' },
      { key: '2', value: 'pay_later' },
    ],
    summary: `Payment due ${messageId}`,
    ...overrides,
  });

const answered = (messageId: string, overrides: Partial<PromptAnswer> = {}): PromptAnswer => ({
  answer: 'yes',
  raw: 'Y',
  at: '2025-06-02T11:30:00.000Z',
  channel: 'sms',
  messageId,
  ...overrides,
});

const customerWith = (
  prompts: OpenPrompt[],
  extra: Partial<Pick<Customer, 'promptAnswers' | 'pendingQuestion'>> = {},
): Customer => ({
  tenantId,
  customerId: 'cust-42',
  preferences: {},
  consent: {},
  openPrompts: Object.fromEntries(prompts.map((p) => [p.messageId, p])),
  promptAnswers: {},
  createdAt: '2025-01-01T00:00:00.000Z',
  updatedAt: '2025-01-01T00:00:00.000Z',
  version: 3,
  ...extra,
});

const match = (customer: Customer | undefined, text: string, extra: Partial<MatchInput> = {}) =>
  matchPrompt({ customer, normalised: normaliseReply(text), messageId: inboundId, now, ...extra });

describe('prompt matcher', () => {
  describe('one open prompt', () => {
    it.each([
      ['Y', 'yes'],
      ['y', 'yes'],
      ['YES', 'yes'],
      ['yEs!', 'yes'],
      [' y. ', 'yes'],
      ['N', 'no'],
      ['n', 'no'],
      ['No', 'no'],
      ['no.', 'no'],
    ])('answers the only open confirm prompt with %j as %s', (text, expected) => {
      // Prepare
      const prompt = confirmPrompt('msg_A');

      // Act
      const result = match(customerWith([prompt]), text);

      // Assess
      expect(result).toEqual({ kind: 'answer', prompt, answer: expected });
    });

    it.each([
      ['1', 'pay_now'],
      ['2', 'pay_later'],
      [' 2. ', 'pay_later'],
    ])('maps the choice key %j to the option value %s', (text, expected) => {
      // Prepare
      const prompt = choicePrompt('msg_A');

      // Act
      const result = match(customerWith([prompt]), text);

      // Assess
      expect(result).toEqual({ kind: 'answer', prompt, answer: expected });
    });

    it('matches a choice key whatever its case on either side', () => {
      // Prepare
      const prompt = choicePrompt('msg_A', {
        options: [
          { key: 'a', value: 'agree' },
          { key: 'B', value: 'disagree' },
        ],
      });
      const customer = customerWith([prompt]);

      // Act
      const results = [match(customer, 'A'), match(customer, 'b')];

      // Assess
      expect(results).toEqual([
        { kind: 'answer', prompt, answer: 'agree' },
        { kind: 'answer', prompt, answer: 'disagree' },
      ]);
    });

    it('answers the one open prompt the reply fits when another open prompt does not fit it', () => {
      // Prepare
      const confirm = confirmPrompt('msg_A', { createdAt: '2025-06-02T10:00:00.000Z' });
      const choice = choicePrompt('msg_B', { createdAt: '2025-06-02T11:00:00.000Z' });

      // Act
      const result = match(customerWith([confirm, choice]), 'Y');

      // Assess
      expect(result).toEqual({ kind: 'answer', prompt: confirm, answer: 'yes' });
    });

    it('answers the live prompt and ignores an expired one beside it', () => {
      // Prepare
      const expired = confirmPrompt('msg_OLD', { expiresAt: '2025-06-02T11:59:59.999Z' });
      const live = confirmPrompt('msg_NEW');

      // Act
      const result = match(customerWith([expired, live]), 'N');

      // Assess
      expect(result).toEqual({ kind: 'answer', prompt: live, answer: 'no' });
    });
  });

  describe('several open prompts', () => {
    const older = confirmPrompt('msg_OLDER', { createdAt: '2025-06-02T10:00:00.000Z' });
    const newer = confirmPrompt('msg_NEWER', { createdAt: '2025-06-02T11:00:00.000Z' });

    it('answers the prompt named by previousPublishedMessageId when two are open', () => {
      // Prepare
      const customer = customerWith([newer, older]);

      // Act
      const result = match(customer, 'Y', { namedPromptId: older.messageId });

      // Assess
      expect(result).toEqual({ kind: 'answer', prompt: older, answer: 'yes' });
    });

    it('asks which one, newest first, for a bare Y with two open prompts', () => {
      // Prepare
      const customer = customerWith([older, newer]);

      // Act
      const result = match(customer, 'Y');

      // Assess
      expect(result).toEqual({ kind: 'ask_which', candidates: [newer, older] });
    });

    it('answers the second listed candidate with the stored answer text when the pending question gets "2"', () => {
      // Prepare
      const customer = customerWith([older, newer], {
        pendingQuestion: {
          answerText: 'N',
          candidates: [newer.messageId, older.messageId],
          askedAt: '2025-06-02T11:55:00.000Z',
        },
      });

      // Act
      const result = match(customer, '2');

      // Assess
      expect(result).toEqual({ kind: 'answer', prompt: older, answer: 'no' });
    });

    it('tells a numbered answer its chosen candidate has expired', () => {
      // Prepare
      const expiredOlder = { ...older, expiresAt: '2025-06-02T11:58:00.000Z' };
      const customer = customerWith([expiredOlder, newer], {
        pendingQuestion: {
          answerText: 'Y',
          candidates: [newer.messageId, older.messageId],
          askedAt: '2025-06-02T11:55:00.000Z',
        },
      });

      // Act
      const result = match(customer, '2');

      // Assess
      expect(result).toEqual({ kind: 'expired', prompt: expiredOlder });
    });

    it('hints at the newest live prompt for a number the pending question did not list', () => {
      // Prepare
      const customer = customerWith([older, newer], {
        pendingQuestion: {
          answerText: 'Y',
          candidates: [newer.messageId, older.messageId],
          askedAt: '2025-06-02T11:55:00.000Z',
        },
      });

      // Act
      const result = match(customer, '3');

      // Assess
      expect(result).toEqual({ kind: 'hint', prompt: newer });
    });
  });

  describe('expired and answered prompts', () => {
    it('tells a reply to the only prompt, now expired, that it has expired', () => {
      // Prepare
      const prompt = confirmPrompt('msg_A', { expiresAt: '2025-06-02T11:00:00.000Z' });

      // Act
      const result = match(customerWith([prompt]), 'yes');

      // Assess
      expect(result).toEqual({ kind: 'expired', prompt });
    });

    it('treats a prompt expiring exactly now as expired', () => {
      // Prepare
      const prompt = confirmPrompt('msg_A', { expiresAt: new Date(now).toISOString() });

      // Act
      const result = match(customerWith([prompt]), 'Y');

      // Assess
      expect(result).toEqual({ kind: 'expired', prompt });
    });

    it('tells a named prompt that expired so, even beside a live one the answer fits', () => {
      // Prepare
      const expired = confirmPrompt('msg_A', { expiresAt: '2025-06-02T11:00:00.000Z' });
      const live = confirmPrompt('msg_B');

      // Act
      const result = match(customerWith([expired, live]), 'Y', { namedPromptId: expired.messageId });

      // Assess
      expect(result).toEqual({ kind: 'expired', prompt: expired });
    });

    it('says already answered (by another message) when an answered prompt is named again', () => {
      // Prepare
      const customer = customerWith([], { promptAnswers: { msg_A: answered('msg_EARLIER') } });

      // Act
      const result = match(customer, 'N', { namedPromptId: 'msg_A' });

      // Assess
      expect(result).toEqual({ kind: 'already_answered', promptMessageId: 'msg_A', bySameMessage: false });
    });

    it('says already answered by the same message when the answering inbound message is read again', () => {
      // Prepare
      const customer = customerWith([], { promptAnswers: { msg_A: answered(inboundId) } });

      // Act
      const named = match(customer, 'Y', { namedPromptId: 'msg_A' });
      const unnamed = match(customer, 'Y');

      // Assess
      expect(named).toEqual({ kind: 'already_answered', promptMessageId: 'msg_A', bySameMessage: true });
      expect(unnamed).toEqual({ kind: 'already_answered', promptMessageId: 'msg_A', bySameMessage: true });
    });

    it('finds nothing for a second unnamed answer once the only prompt was answered by another message', () => {
      // Prepare
      const customer = customerWith([], { promptAnswers: { msg_A: answered('msg_EARLIER') } });

      // Act
      const result = match(customer, 'Y');

      // Assess
      expect(result).toEqual({ kind: 'none' });
    });
  });

  describe('replies that fit no option', () => {
    it.each([
      ['3', choicePrompt('msg_A')],
      ['X', choicePrompt('msg_A')],
      ['X', confirmPrompt('msg_A')],
    ])('hints when %j looks like an answer but fits no option', (text, prompt) => {
      // Act
      const result = match(customerWith([prompt]), text);

      // Assess
      expect(result).toEqual({ kind: 'hint', prompt });
    });

    it.each(['ok', 'YEP', 'HI', 'BAL'])(
      'leaves %j to keywords and free text: it is not an attempt at an answer',
      (text) => {
        expect(match(customerWith([confirmPrompt('msg_A')]), text)).toEqual({ kind: 'none' });
      },
    );

    it('hints at the named prompt when the reply fits none of its options', () => {
      // Prepare
      const named = choicePrompt('msg_A', { createdAt: '2025-06-02T10:00:00.000Z' });
      const other = confirmPrompt('msg_B', { createdAt: '2025-06-02T11:00:00.000Z' });

      // Act
      const result = match(customerWith([named, other]), '7', { namedPromptId: named.messageId });

      // Assess
      expect(result).toEqual({ kind: 'hint', prompt: named });
    });

    it.each(['Yes but only if the fee is waived', 'I did not make this payment, please call me back tomorrow', 'YESS'])(
      'finds no match for the free text %j',
      (text) => {
        // Act
        const result = match(customerWith([confirmPrompt('msg_A')]), text);

        // Assess
        expect(result).toEqual({ kind: 'none' });
      },
    );

    it('finds no match without a customer or without any prompt', () => {
      // Act
      const results = [match(undefined, 'Y'), match(customerWith([]), 'Y')];

      // Assess
      expect(results).toEqual([{ kind: 'none' }, { kind: 'none' }]);
    });
  });

  describe('answerFor', () => {
    it('gives nothing for a choice prompt without options or a confirm word on a choice', () => {
      // Prepare
      const { options: _none, ...bare } = choicePrompt('msg_A');

      // Act
      const results = [answerFor(bare, '1'), answerFor(choicePrompt('msg_B'), 'YES')];

      // Assess
      expect(results).toEqual([undefined, undefined]);
    });
  });

  describe('texts', () => {
    it('hints Y or N for a confirm prompt', () => {
      // Act
      const hint = hintFor(confirmPrompt('msg_A'));

      // Assess
      expect(hint).toBe('Please reply Y for yes or N for no.');
    });

    it.each([
      [['1', '2'], 'Please reply 1 or 2.'],
      [['A', 'B', 'C'], 'Please reply A, B or C.'],
      [['OK'], 'Please reply OK.'],
    ])('lists the keys %j of a choice prompt', (keys, expected) => {
      // Prepare
      const prompt = choicePrompt('msg_A', { options: keys.map((key) => ({ key, value: key.toLowerCase() })) });

      // Act
      const hint = hintFor(prompt);

      // Assess
      expect(hint).toBe(expected);
    });

    it('asks which request an answer is for, numbering the candidates in order', () => {
      // Prepare
      const candidates = [
        confirmPrompt('msg_B', { summary: 'Card 4242: $420.00 at ACME' }),
        confirmPrompt('msg_A', { summary: 'Card 4242: $12.00 at Cafe' }),
      ];

      // Act
      const text = whichQuestion('Demo Bank', 'y', candidates);

      // Assess
      expect(text).toBe(
        'Demo Bank: which request is your "y" for? Reply 1 for "Card 4242: $420.00 at ACME"; ' +
          'Reply 2 for "Card 4242: $12.00 at Cafe".',
      );
    });
  });
});
