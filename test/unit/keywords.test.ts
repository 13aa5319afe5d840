import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Classified, classifyKeyword, confirmAnswer, normaliseReply } from '../../functions/domain/keywords.ts';

const optOutWords = [
  'STOP',
  'STOPALL',
  'UNSUBSCRIBE',
  'CANCEL',
  'END',
  'QUIT',
  'REVOKE',
  'OPTOUT',
  'OPT-OUT',
  'REMOVE',
  'ARRET',
  'TD',
];

const mixedCase = (word: string) => [...word].map((c, i) => (i % 2 === 0 ? c.toLowerCase() : c.toUpperCase())).join('');

const cases = [
  { name: 'upper', apply: (w: string) => w.toUpperCase() },
  { name: 'lower', apply: (w: string) => w.toLowerCase() },
  { name: 'mixed', apply: mixedCase },
];

const wrappings = [
  { name: 'bare', apply: (w: string) => w },
  { name: 'surrounding spaces', apply: (w: string) => `   ${w}  ` },
  { name: 'tabs and a newline', apply: (w: string) => `\t${w}\n` },
  { name: 'trailing full stop', apply: (w: string) => `${w}.` },
  { name: 'trailing exclamation marks', apply: (w: string) => `${w}!!` },
  { name: 'trailing space and question mark', apply: (w: string) => `${w} ?` },
  { name: 'trailing words', apply: (w: string) => `${w} please` },
  { name: 'a comma, then words', apply: (w: string) => `${w}, thanks!` },
  { name: 'a newline, then words', apply: (w: string) => `${w}\nno more texts` },
];

const optOutTable = optOutWords.flatMap((word) =>
  cases.flatMap((c) =>
    wrappings.map((wrap) => ({ word, text: wrap.apply(c.apply(word)), how: `${c.name}, ${wrap.name}` })),
  ),
);

const reply = (normalised: string): Classified => ({ kind: 'reply', normalised });

describe('normaliseReply', () => {
  it.each([
    ['  yes  ', 'YES'],
    ['y.', 'Y'],
    ['No!!!', 'NO'],
    ['call    me', 'CALL ME'],
    ['call\tme\n', 'CALL ME'],
    ['Opt  out .', 'OPT OUT'],
    ['ok?!,;:', 'OK'],
    ['¿qué?', '¿QUÉ'],
    ['ＳＴＯＰ', 'STOP'],
    ['stop\u00a0please', 'STOP PLEASE'],
    ['', ''],
    [' .!? ', ''],
  ])('normalises %j to %j', (text, expected) => {
    // Act
    const normalised = normaliseReply(text);

    // Assess
    expect(normalised).toBe(expected);
  });

  it.each(['ß\u0301', '\u0390', '\u03b0', '\u1fd2', '\u1fd3', '\u1fd7', '\u1fe2', '\u1fe3', '\u1fe7'])(
    'is idempotent on %j, whose upper case decomposes',
    (text) => {
      // Act
      const once = normaliseReply(text);

      // Assess
      expect(normaliseReply(once)).toBe(once);
    },
  );

  it('keeps punctuation inside the message, stripping only the trailing run', () => {
    // Act
    const normalised = normaliseReply('end-of-month: ok.');

    // Assess
    expect(normalised).toBe('END-OF-MONTH: OK');
  });
});

describe('classifyKeyword', () => {
  describe('opt-out, by first word', () => {
    it.each(optOutTable)('$text ($how) opts out with keyword $word', ({ word, text }) => {
      // Act
      const classified = classifyKeyword(text);

      // Assess
      expect(classified).toEqual({ kind: 'opt_out', keyword: word });
    });

    it.each(['OPT OUT', 'opt out', 'Opt Out!', 'opt  out.', '  opt\tout  '])(
      '%j as the whole message opts out with keyword OPT OUT',
      (text) => {
        // Act
        const classified = classifyKeyword(text);

        // Assess
        expect(classified).toEqual({ kind: 'opt_out', keyword: 'OPT OUT' });
      },
    );

    it('opts out on full-width STOP, as NFKC folds it to ASCII', () => {
      // Act
      const classified = classifyKeyword('ＳＴＯＰ');

      // Assess
      expect(classified).toEqual({ kind: 'opt_out', keyword: 'STOP' });
    });

    it('opts out on "Cancel my order": the first-word rule reads CANCEL, whatever follows', () => {
      // Act
      const classified = classifyKeyword('Cancel my order');

      // Assess
      expect(classified).toEqual({ kind: 'opt_out', keyword: 'CANCEL' });
    });

    it.each([
      ['Ending balance?', 'ENDING BALANCE'],
      ['Stopping by later', 'STOPPING BY LATER'],
      ['Can I cancel?', 'CAN I CANCEL'],
      ['TDS', 'TDS'],
      ['REMOVED', 'REMOVED'],
      ['Quitting', 'QUITTING'],
      ['end-of-month', 'END-OF-MONTH'],
      ["don't stop", "DON'T STOP"],
      ['please stop', 'PLEASE STOP'],
      ['opt out please', 'OPT OUT PLEASE'],
      ['unstoppable', 'UNSTOPPABLE'],
      ['STOP-LOSS', 'STOP-LOSS'],
    ])('does not opt out on the near-miss %j (first word is not an opt-out word)', (text, normalised) => {
      // Act
      const classified = classifyKeyword(text);

      // Assess
      expect(classified).toEqual(reply(normalised));
    });
  });

  describe('whole-message keywords', () => {
    it.each([
      ['START', 'opt_in', 'START'],
      ['start', 'opt_in', 'START'],
      [' Start. ', 'opt_in', 'START'],
      ['UNSTOP', 'opt_in', 'UNSTOP'],
      ['unStop!', 'opt_in', 'UNSTOP'],
      ['HELP', 'help', 'HELP'],
      ['help?', 'help', 'HELP'],
      ['  Info ', 'help', 'INFO'],
      ['info.', 'help', 'INFO'],
      ['CALL', 'callback', 'CALL'],
      ['call!', 'callback', 'CALL'],
      ['CALLBACK', 'callback', 'CALLBACK'],
      ['Callback.', 'callback', 'CALLBACK'],
      ['call me', 'callback', 'CALL ME'],
      ['Call   Me!', 'callback', 'CALL ME'],
      ['\tCALL\nME', 'callback', 'CALL ME'],
      ['CHAT', 'chat', 'CHAT'],
      ['chat?', 'chat', 'CHAT'],
      ['Agent', 'chat', 'AGENT'],
      [' human ', 'chat', 'HUMAN'],
      ['HUMAN!', 'chat', 'HUMAN'],
    ] as const)('%j is %s with keyword %s', (text, kind, keyword) => {
      // Act
      const classified = classifyKeyword(text);

      // Assess
      expect(classified).toEqual({ kind, keyword });
    });

    it.each([
      ['Help me understand this charge', 'HELP ME UNDERSTAND THIS CHARGE'],
      ['Call center was rude', 'CALL CENTER WAS RUDE'],
      ['Start over?', 'START OVER'],
      ['info please', 'INFO PLEASE'],
      ['chat later', 'CHAT LATER'],
      ['call me maybe', 'CALL ME MAYBE'],
      ['callme', 'CALLME'],
      ['human resources', 'HUMAN RESOURCES'],
    ])('treats %j as a plain reply: only opt-out words count as a first word', (text, normalised) => {
      // Act
      const classified = classifyKeyword(text);

      // Assess
      expect(classified).toEqual(reply(normalised));
    });

    it.each([
      ['y', 'Y'],
      ['Yes!', 'YES'],
      ['  n. ', 'N'],
      ['BAL', 'BAL'],
      ['2', '2'],
    ])('leaves the answer-like %j as a reply, normalised to %j', (text, normalised) => {
      // Act
      const classified = classifyKeyword(text);

      // Assess
      expect(classified).toEqual(reply(normalised));
    });
  });

  describe('properties', () => {
    const smsText = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.string({ unit: 'grapheme', maxLength: 60 }),
      fc
        .array(
          fc.oneof(
            fc.constantFrom(...optOutWords, 'OPT', 'OUT', 'START', 'HELP', 'CALL', 'ME', 'Y', 'no', '1'),
            fc.constantFrom(' ', '  ', '\t', '\n', '.', '!', '?', ',', ';', ':', '\u00a0', '\u3000'),
            fc.string({ unit: 'binary-ascii', maxLength: 6 }),
          ),
          { maxLength: 12 },
        )
        .map((parts) => parts.join('')),
    );

    it('classification never throws and always yields a known kind', () => {
      fc.assert(
        fc.property(smsText, (text) => {
          // Act
          const classified = classifyKeyword(text);

          // Assess
          expect(['opt_out', 'opt_in', 'help', 'callback', 'chat', 'reply']).toContain(classified.kind);
        }),
        { numRuns: 2000 },
      );
    });

    it('a reply carries exactly the normalised text', () => {
      fc.assert(
        fc.property(smsText, (text) => {
          // Act
          const classified = classifyKeyword(text);

          // Assess
          if (classified.kind === 'reply') expect(classified.normalised).toBe(normaliseReply(text));
        }),
        { numRuns: 1000 },
      );
    });

    // Any text at all, with the characters that trip normalisation up mixed in often: combining marks, letters
    // whose upper case decomposes (ß, Greek with dialytika and tonos), NFKC-foldable letters and odd whitespace.
    const unicodeSms = fc
      .array(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 8 }),
          fc.string({ unit: 'grapheme', maxLength: 4 }),
          fc.constantFrom(
            'é',
            'ß',
            'ﬁ',
            'Ｓ',
            '１',
            '👍🏽',
            '\u0301',
            '\u0308',
            '\u0342',
            '\u0390',
            '\u03b0',
            '\u1fd2',
            '\u1fd3',
            '\u1fd7',
            '\u1fe2',
            '\u1fe3',
            '\u1fe7',
            '\u00b4',
            '\u00a0',
            '\u2003',
            '\u3000',
            '\u200b',
            ' ',
            '.',
          ),
        ),
        { maxLength: 20 },
      )
      .map((parts) => parts.join(''));

    it('normaliseReply is idempotent', () => {
      fc.assert(
        fc.property(unicodeSms, (text) => {
          // Act
          const once = normaliseReply(text);

          // Assess
          expect(normaliseReply(once)).toBe(once);
        }),
        { numRuns: 3000 },
      );
    });

    it('classification depends only on the normalised text', () => {
      fc.assert(
        fc.property(unicodeSms, (text) => {
          // Act
          const direct = classifyKeyword(text);
          const viaNormalised = classifyKeyword(normaliseReply(text));

          // Assess
          expect(viaNormalised).toEqual(direct);
        }),
        { numRuns: 2000 },
      );
    });

    it('any opt-out word first, whatever follows after a space, opts out', () => {
      fc.assert(
        fc.property(
          fc.constantFrom(...optOutWords),
          fc.constantFrom(...cases.map((c) => c.apply)),
          fc.string({ unit: 'grapheme-ascii', maxLength: 40 }),
          (word, casing, rest) => {
            // Act
            const classified = classifyKeyword(`${casing(word)} ${rest}`);

            // Assess
            expect(classified).toEqual({ kind: 'opt_out', keyword: word });
          },
        ),
        { numRuns: 1000 },
      );
    });
  });
});

describe('confirmAnswer', () => {
  it.each([
    ['Y', 'yes'],
    ['YES', 'yes'],
    ['N', 'no'],
    ['NO', 'no'],
    ['YEP', undefined],
    ['NOPE', undefined],
    ['1', undefined],
    ['', undefined],
  ] as const)('reads the normalised %j as %s', (normalised, expected) => {
    // Act
    const answer = confirmAnswer(normalised);

    // Assess
    expect(answer).toBe(expected);
  });
});
