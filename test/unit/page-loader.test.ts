import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadPage, type PageName } from '../../functions/adapters/pages/page-loader.ts';

const webDir = fileURLToPath(new URL('../../web/', import.meta.url));
const wsUrl = 'wss://abc123.execute-api.eu-west-1.amazonaws.com/prod';

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/** The inline blocks of one kind, as the browser hashes them: everything between the tags. */
const blocks = (html: string, tag: 'style' | 'script') =>
  [...html.matchAll(new RegExp(`<${tag}\\b[^>]*>([\\s\\S]*?)</${tag}>`, 'g'))].map((m) => m[1] ?? '');

/** The CSP as directive → sources. */
const directives = (csp: string) =>
  new Map(
    csp.split(';').map((part) => {
      const [name = '', ...sources] = part.trim().split(/\s+/);
      return [name, sources];
    }),
  );

const page = (style: string, script: string) =>
  `<!doctype html>\n<html>\n<head>\n<meta name="parley-ws-url" content="{{WS_URL}}">\n<style>\n${style}\n</style>\n</head>\n<body>\n<script>\n${script}\n</script>\n</body>\n</html>\n`;

describe('page loader', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'parley-pages-'));
    writeFileSync(join(dir, 'common.css'), ':root { --bg: #fff; }\nbody { margin: 0; }\n');
    writeFileSync(
      join(dir, 'common.js'),
      "const byId = (id) => document.getElementById(id);\nconst keep = '$& $1 $$';\n",
    );
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const write = (name: PageName, style: string, script: string) =>
    writeFileSync(join(dir, `${name}.html`), page(style, script));

  it('inlines the includes where the page says so, in its one style and one script', () => {
    // Prepare
    write(
      'chat',
      '/* @include common.css */\n.page { color: red; }',
      "(() => {\n  // @include common.js\n  byId('x');\n})();",
    );

    // Act
    const { body } = loadPage('chat', { wsUrl, dir });

    // Assert
    expect(blocks(body, 'style')).toEqual(['\n:root { --bg: #fff; }\nbody { margin: 0; }\n.page { color: red; }\n']);
    expect(blocks(body, 'script')).toEqual([
      "\n(() => {\nconst byId = (id) => document.getElementById(id);\nconst keep = '$& $1 $$';\n  byId('x');\n})();\n",
    ]);
    expect(body).not.toContain('@include');
  });

  it('allows exactly the served inline blocks by their hashes, and nothing inline otherwise', () => {
    // Prepare
    write('agent', '/* @include common.css */\nh1 { margin: 0; }', '// @include common.js\nconsole.log(1);');

    // Act
    const { body, headers } = loadPage('agent', { wsUrl, dir });

    // Assert
    const csp = directives(headers['content-security-policy'] ?? '');
    expect(csp.get('script-src')).toEqual(blocks(body, 'script').map(sha256));
    expect(csp.get('style-src')).toEqual(blocks(body, 'style').map(sha256));
    expect(csp.get('default-src')).toEqual(["'none'"]);
    expect(headers['content-security-policy']).not.toContain('unsafe-');
  });

  it('puts the WebSocket URL in the page and allows its origin, and only it, in connect-src', () => {
    // Prepare
    write('chat', 'p { margin: 0; }', 'void 0;');

    // Act
    const { body, headers } = loadPage('chat', { wsUrl, dir });

    // Assert
    expect(body).toContain(`<meta name="parley-ws-url" content="${wsUrl}">`);
    expect(body).not.toContain('{{WS_URL}}');
    const csp = directives(headers['content-security-policy'] ?? '');
    expect(csp.get('connect-src')).toEqual(["'self'", 'wss://abc123.execute-api.eu-west-1.amazonaws.com']);
  });

  it('turns an http(s) WebSocket URL into its ws(s) origin, and allows only self without one', () => {
    // Prepare
    write('console', 'p { margin: 0; }', 'void 0;');

    // Act
    const local = loadPage('console', { wsUrl: 'http://127.0.0.1:3000/ws', dir });
    const none = loadPage('console', { wsUrl: '', dir });

    // Assert
    expect(directives(local.headers['content-security-policy'] ?? '').get('connect-src')).toEqual([
      "'self'",
      'ws://127.0.0.1:3000',
    ]);
    expect(directives(none.headers['content-security-policy'] ?? '').get('connect-src')).toEqual(["'self'"]);
  });

  it.each([
    ['a path out of the directory', '/* @include ../secret.css */', 'void 0;'],
    ['an absolute path', '/* @include /etc/passwd.css */', 'void 0;'],
    ['capitals', '/* @include Common.css */', 'void 0;'],
    ['no name', '/* @include */', 'void 0;'],
    ['two names', '/* @include common.css other.css */', 'void 0;'],
    ['a script in the style', '/* @include common.js */', 'void 0;'],
    ['a style in the script', 'p { margin: 0; }', '// @include common.css'],
    ['another extension', 'p { margin: 0; }', '// @include common.mjs'],
  ])('refuses an include with %s', (_case, style, script) => {
    // Prepare
    write('chat', style, script);

    // Act
    const load = () => loadPage('chat', { wsUrl, dir });

    // Assert
    expect(load).toThrow(/^Page chat: bad include/);
  });

  it('throws at load, naming the file, when an include is missing', () => {
    // Prepare
    write('agent', '/* @include missing.css */', 'void 0;');

    // Act
    const load = () => loadPage('agent', { wsUrl, dir });

    // Assert
    expect(load).toThrow('Page agent: cannot read include "missing.css"');
  });

  it('refuses an include that would close the block it goes into', () => {
    // Prepare
    writeFileSync(join(dir, 'evil.js'), "const x = '</script><script>alert(1)';\n");
    write('chat', 'p { margin: 0; }', '// @include evil.js');

    // Act
    const load = () => loadPage('chat', { wsUrl, dir });

    // Assert
    expect(load).toThrow(/include "evil.js" contains <\/script/);
  });
});

describe('the real pages', () => {
  const commonCss = readFileSync(join(webDir, 'common.css'), 'utf8').trimEnd();
  const commonJs = readFileSync(join(webDir, 'common.js'), 'utf8').trimEnd();

  it.each(['chat', 'agent', 'console'] as const)(
    '%s is served as one document with the shared files inlined',
    (name) => {
      // Act
      const { body, headers } = loadPage(name, { wsUrl, dir: webDir });

      // Assert
      const styles = blocks(body, 'style');
      const scripts = blocks(body, 'script');
      expect(styles).toHaveLength(1);
      expect(scripts).toHaveLength(1);
      expect(styles[0]).toContain(commonCss);
      expect(scripts[0]).toContain(commonJs);
      expect(body).not.toContain('@include');
      expect(body).not.toContain('{{WS_URL}}');
      expect(body).not.toMatch(/<link\b(?![^>]*rel="icon")|<script\b[^>]*\bsrc=|\bstyle="/);
      const csp = headers['content-security-policy'] ?? '';
      expect(directives(csp).get('script-src')).toEqual([sha256(scripts[0] ?? '')]);
      expect(directives(csp).get('style-src')).toEqual([sha256(styles[0] ?? '')]);
      expect(csp).not.toContain('unsafe-');
    },
  );
});
