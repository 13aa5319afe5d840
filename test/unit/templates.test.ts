import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidRequestError } from '../../functions/domain/errors.ts';
import {
  assertTemplateParses,
  parseTemplate,
  renderContent,
  renderTemplate,
  TemplateSyntaxError,
  templateSyntaxProblem,
  templateVariables,
} from '../../functions/domain/templates.ts';

const caught = (act: () => unknown): unknown => {
  try {
    act();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to throw');
};

describe('templates', () => {
  it('replaces each variable with its value', () => {
    // Act
    const text = renderTemplate('Card ending {{last4}}: {{amount}} at {{merchant}}.', {
      last4: '4242',
      amount: '$420.00',
      merchant: 'ACME',
    });

    // Assess
    expect(text).toBe('Card ending 4242: $420.00 at ACME.');
  });

  it('names every missing variable in the details, at data.<name>', () => {
    // Act
    const error = caught(() => renderTemplate('{{greeting}} {{name}}, {{amount}} is due', { greeting: 'Hi' }));

    // Assess
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect(error).toMatchObject({
      code: 'invalid_request',
      status: 400,
      details: [
        { path: 'data.name', message: 'required by the template' },
        { path: 'data.amount', message: 'required by the template' },
      ],
    });
    expect((error as Error).message).toContain('name, amount');
  });

  it('treats inherited properties such as toString as missing, not as values', () => {
    const error = caught(() => renderTemplate('Hello {{toString}}', {}));

    expect(error).toMatchObject({ code: 'invalid_request', details: [{ path: 'data.toString' }] });
  });

  it('HTML-escapes values in the email html part only', () => {
    // Prepare
    const data = { merchant: `<b>Tom & Jerry's "Shop"</b>` };

    // Act
    const rendered = renderContent(
      {
        sms: 'Paid {{merchant}}',
        email: { subject: 'Paid {{merchant}}', text: 'You paid {{merchant}}', html: '<p>You paid {{merchant}}</p>' },
      },
      data,
    );

    // Assess
    expect(rendered).toEqual({
      sms: `Paid <b>Tom & Jerry's "Shop"</b>`,
      email: {
        subject: `Paid <b>Tom & Jerry's "Shop"</b>`,
        text: `You paid <b>Tom & Jerry's "Shop"</b>`,
        html: '<p>You paid &lt;b&gt;Tom &amp; Jerry&#39;s &quot;Shop&quot;&lt;/b&gt;</p>',
      },
    });
  });

  it('leaves the template markup itself unescaped in the html part', () => {
    expect(renderTemplate('<a href="https://x.test/{{id}}">{{id}}</a>', { id: 'a&b' }, { html: true })).toBe(
      '<a href="https://x.test/a&amp;b">a&amp;b</a>',
    );
  });

  it('renders only the variants a template has', () => {
    expect(renderContent({ sms: 'Hi {{name}}' }, { name: 'Ana' })).toEqual({ sms: 'Hi Ana' });
    expect(renderContent({ email: { subject: 'S', text: 'T {{name}}' } }, { name: 'Ana' })).toEqual({
      email: { subject: 'S', text: 'T Ana' },
    });
  });

  it('checks variables of every variant, including the html part', () => {
    const error = caught(() =>
      renderContent({ sms: 'Hi', email: { subject: 'S', text: 'T', html: '<p>{{footer}}</p>' } }, {}),
    );

    expect(error).toMatchObject({ code: 'invalid_request', details: [{ path: 'data.footer' }] });
  });

  it('writes numbers and booleans as text', () => {
    expect(
      renderTemplate('{{count}} items, {{price}} each, paid: {{paid}}, late: {{late}}', {
        count: 3,
        price: 1.5,
        paid: true,
        late: false,
      }),
    ).toBe('3 items, 1.5 each, paid: true, late: false');
  });

  it('renders zero and the empty string as themselves, not as missing', () => {
    expect(renderTemplate('[{{n}}][{{s}}]', { n: 0, s: '' })).toBe('[0][]');
  });

  it('replaces every use of a repeated variable and lists it once', () => {
    // Prepare
    const text = '{{name}}, {{name}}! Code {{code}} for {{name}}';

    // Act / Assess
    expect(templateVariables(text)).toEqual(['name', 'code']);
    expect(renderTemplate(text, { name: 'Ana', code: 7 })).toBe('Ana, Ana! Code 7 for Ana');
  });

  it('allows whitespace inside the braces', () => {
    expect(renderTemplate('Hi {{ name }}, {{\tcode\n}} / {{name   }}', { name: 'Ana', code: '42' })).toBe(
      'Hi Ana, 42 / Ana',
    );
  });

  it('accepts names with letters, digits, _, - and .', () => {
    expect(templateVariables('{{a.b}} {{c_d}} {{e-f}} {{G9}}')).toEqual(['a.b', 'c_d', 'e-f', 'G9']);
    expect(renderTemplate('{{a.b}}', { 'a.b': 'dotted' })).toBe('dotted');
  });

  it('leaves text that is not a placeholder as it is', () => {
    expect(templateVariables('{{}} {{two words}} {single} {{ bad! }}')).toEqual([]);
    expect(renderTemplate('{single} }} { } {x}', {})).toBe('{single} }} { } {x}');
  });

  it('keeps a third brace as text: {{{name}}} renders {value}', () => {
    expect(renderTemplate('{{{name}}}', { name: 'Ana' })).toBe('{Ana}');
    expect(parseTemplate('{{{name}}}')).toEqual([{ text: '{' }, { variable: 'name' }, { text: '}' }]);
  });

  describe('parseTemplate', () => {
    it.each([
      ['', []],
      ['no placeholders', [{ text: 'no placeholders' }]],
      ['Hi {{name}}!', [{ text: 'Hi ' }, { variable: 'name' }, { text: '!' }]],
      ['{{a}}{{ b }}', [{ variable: 'a' }, { variable: 'b' }]],
      ['{{\ta.b-c_d\n}}', [{ variable: 'a.b-c_d' }]],
      ['stray }} and { braces }', [{ text: 'stray }} and { braces }' }]],
      [`{{${'n'.repeat(64)}}}`, [{ variable: 'n'.repeat(64) }]],
    ])('parses %j', (text, parts) => {
      expect(parseTemplate(text)).toEqual(parts);
      expect(templateSyntaxProblem(text)).toBeUndefined();
    });

    it.each([
      ['Hi {{name', '`{{` at character 4 is never closed with `}}`'],
      ['Hi {{name}', '`{{` at character 4 is never closed with `}}`'],
      ['{{', '`{{` at character 1 is never closed with `}}`'],
      ['{{a}} then {{', '`{{` at character 12 is never closed with `}}`'],
      ['{{}}', '`{{}}` at character 1 names no variable'],
      ['x {{ }}', '`{{ }}` at character 3 names no variable'],
      ['{{\t\n}}', '`{{\t\n}}` at character 1 names no variable'],
      ['{{ a {{b}}', '`{{` at character 1 is not closed before the next `{{`'],
      ['{{two words}}', '`{{two words}}` at character 1 is not a variable name (1-64 letters, digits and _ . -)'],
      ['{{ bad! }}', '`{{ bad! }}` at character 1 is not a variable name (1-64 letters, digits and _ . -)'],
      ['{{{{name}}}}', '`{{{name}}` at character 2 is not a variable name (1-64 letters, digits and _ . -)'],
      [`{{${'n'.repeat(65)}}}`, 'is not a variable name'],
    ])('refuses %j: %s', (text, message) => {
      expect(templateSyntaxProblem(text)).toContain(message);
      expect(() => parseTemplate(text)).toThrow(TemplateSyntaxError);
    });

    it('assertTemplateParses throws invalid_request at the path it is given', () => {
      expect(() => assertTemplateParses('Hi {{name}}', 'sms')).not.toThrow();
      expect(caught(() => assertTemplateParses('Hi {{name', 'email.subject'))).toMatchObject({
        code: 'invalid_request',
        status: 400,
        details: [{ path: 'email.subject', message: '`{{` at character 4 is never closed with `}}`' }],
      });
    });
  });

  it('renders a text it rendered before anew each time (parsed once, values never kept)', () => {
    const text = 'Hi {{name}}, {{amount}} at {{merchant}}: {{name}}?';

    const first = renderTemplate(text, { name: 'Ana', amount: '$1', merchant: 'ACME' });
    const again = renderTemplate(text, { name: 'Bo', amount: '$2', merchant: 'Shop' }, { html: true });
    const missing = caught(() => renderTemplate(text, { name: 'Cy' }));
    const long = `${'x'.repeat(9000)} {{name}}`;

    expect(first).toBe('Hi Ana, $1 at ACME: Ana?');
    expect(again).toBe('Hi Bo, $2 at Shop: Bo?');
    expect(missing).toMatchObject({ details: [{ path: 'data.amount' }, { path: 'data.merchant' }] });
    expect(renderTemplate(long, { name: 'Ana' })).toBe(`${'x'.repeat(9000)} Ana`);
    expect(renderTemplate(long, { name: 'Bo' })).toBe(`${'x'.repeat(9000)} Bo`);
    for (let i = 0; i < 3; i++)
      expect(caught(() => renderTemplate('Hi {{name', { name: 'Ana' }))).toBeInstanceOf(InvalidRequestError);
  });

  describe('rendering what does not parse or cannot be sent', () => {
    it.each(['Hi {{name', '{{}}', 'Hi {{ }}', '{{ a {{name}}'])(
      'refuses to render the (legacy, unchecked) template %j, never sending a stray {{',
      (text) => {
        const error = caught(() => renderTemplate(text, { name: 'Ana', a: 'x' }));

        expect(error).toBeInstanceOf(InvalidRequestError);
        expect(error).toMatchObject({ code: 'invalid_request', details: [{ path: 'template' }] });
      },
    );

    it('names the variant of a stored template that does not parse', () => {
      const error = caught(() => renderContent({ sms: 'ok', email: { subject: 'Hi {{name', text: 'T' } }, {}));

      expect(error).toMatchObject({
        details: [{ path: 'template', message: 'email.subject: `{{` at character 4 is never closed with `}}`' }],
      });
    });

    it.each([
      ['a line feed', 'Ana\nBcc: x@evil.test'],
      ['a carriage return', 'Ana\r'],
      ['a tab', 'Ana\tB'],
      ['a line separator', 'Ana\u2028B'],
    ])('refuses a value with %s in the email subject, at data.<name>', (_, value) => {
      const content = { email: { subject: 'Hi {{name}}', text: 'Dear {{name}}' } };

      const error = caught(() => renderContent(content, { name: value }));

      expect(error).toMatchObject({ code: 'invalid_request', details: [{ path: 'data.name' }] });
      expect((error as InvalidRequestError).details?.[0]?.message).toContain('one line');
      expect(
        renderContent({ sms: 'Hi {{name}}', email: { subject: 'S', text: 'Dear {{name}}' } }, { name: value }),
      ).toMatchObject({ sms: `Hi ${value}`, email: { text: `Dear ${value}` } });
    });

    it.each([
      ['a lone surrogate', 'emoji cut \ud83d', 'must be well-formed Unicode (no lone surrogates)'],
      ['NUL', 'a\u0000b', 'must not contain control characters'],
      ['an escape', '\u001b[2J', 'must not contain control characters'],
    ])('refuses a value with %s anywhere, at data.<name>', (_, value, message) => {
      const error = caught(() => renderTemplate('Hi {{name}}', { name: value }));

      expect(error).toMatchObject({ code: 'invalid_request', details: [{ path: 'data.name', message }] });
    });
  });

  it('does not render placeholders that come from a value', () => {
    expect(renderTemplate('Hi {{name}}', { name: '{{secret}}', secret: 'x' })).toBe('Hi {{secret}}');
  });

  describe('properties', () => {
    const name = fc.stringMatching(/^[A-Za-z0-9_.-]{1,12}$/);
    // Literal text without braces, so no placeholder can be formed across a literal and a value.
    const literal = fc.string({ maxLength: 20 }).map((s) => s.replace(/[{}]/g, ''));
    const value = fc.oneof(
      fc.string({ maxLength: 20 }).map((s) => s.replace(/[{}]/g, '')),
      fc.integer(),
      fc.double({ noNaN: true }),
      fc.boolean(),
    );
    const spacing = fc.constantFrom('', ' ', '  ', '\t');
    const braceHeavyText = fc.oneof(
      fc.string({ maxLength: 80 }),
      fc.string({
        unit: fc.constantFrom('{', '{', '}', '}', ' ', 'a', 'Z', '1', '.', '-', '_', '\n', '<', '&'),
        maxLength: 80,
      }),
    );

    const template = fc
      .array(fc.tuple(literal, name, spacing, spacing), { maxLength: 8 })
      .chain((parts) => fc.tuple(fc.constant(parts), literal, fc.tuple(...parts.map(() => value))))
      .map(([parts, tail, values]) => ({
        text: parts.map(([text, n, before, after]) => `${text}{{${before}${n}${after}}}`).join('') + tail,
        data: Object.fromEntries(parts.map(([, n], i) => [n, values[i] as string | number | boolean])),
      }));

    it('never leaves a {{name}} placeholder and never throws when every variable is given', () => {
      fc.assert(
        fc.property(template, fc.boolean(), ({ text, data }, html) => {
          const rendered = renderTemplate(text, data, { html });
          expect(rendered).not.toMatch(/\{\{\s*[A-Za-z0-9_.-]+\s*\}\}/);
        }),
        { numRuns: 300 },
      );
    });

    it('parses every generated template into its variables, in order', () => {
      fc.assert(
        fc.property(template, ({ text, data }) => {
          const variables = parseTemplate(text).flatMap((part) => ('variable' in part ? [part.variable] : []));
          expect(new Set(variables)).toEqual(new Set(Object.keys(data)));
        }),
        { numRuns: 300 },
      );
    });

    it('on any text, renders (with no {{ left) exactly when the text parses, and otherwise refuses with 400', () => {
      fc.assert(
        fc.property(braceHeavyText, fc.boolean(), (text, html) => {
          const data = Object.fromEntries(templateVariables(text).map((n) => [n, 'v']));
          const problem = templateSyntaxProblem(text);
          let rendered: string | undefined;
          try {
            rendered = renderTemplate(text, data, { html });
          } catch (error) {
            expect(error).toBeInstanceOf(InvalidRequestError);
            expect(problem).toBeDefined();
            return;
          }
          expect(problem).toBeUndefined();
          expect(rendered).not.toContain('{{');
        }),
        { numRuns: 500 },
      );
    });
  });
});
