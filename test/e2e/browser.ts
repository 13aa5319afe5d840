import {
  closeSync,
  existsSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import sparticuz, { inflate } from '@sparticuz/chromium';
import { type Browser, chromium } from 'playwright-core';

/**
 * The browser of the e2e tier: the Chromium shipped in the npm package @sparticuz/chromium (so `npm install` is all it
 * needs), or the Chromium binary at PARLEY_CHROMIUM_PATH (Debian's /usr/bin/chromium, say) when that is set.
 */
export const launchBrowser = async (): Promise<Browser> => {
  const override = process.env.PARLEY_CHROMIUM_PATH;
  if (override) {
    if (!existsSync(override)) {
      throw new Error(
        `PARLEY_CHROMIUM_PATH is ${override}, which does not exist. Unset it to use the bundled Chromium.`,
      );
    }
    return chromium.launch({ executablePath: override, args: fullChromiumArgs, headless: true });
  }
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(
      `@sparticuz/chromium ships Chromium for Linux x64 only; on ${process.platform} ${process.arch} set ` +
        'PARLEY_CHROMIUM_PATH to a Chromium binary.',
    );
  }
  extraction ??= extractBundled();
  const bundled = await extraction;
  return chromium.launch({
    executablePath: bundled.executablePath,
    args: sparticuz.args.filter((arg) => !insecure.has(arg)),
    headless: true,
    env: bundled.env,
  });
};

/**
 * Of the package's Lambda flags, those that switch off web security (the same-origin policy and CORS, mixed content):
 * the pages under test must meet them as a customer's browser does. CSP is enforced either way.
 */
const insecure = new Set(['--disable-web-security', '--allow-running-insecure-content']);

/** What the tier always passed to a full Chromium. */
const fullChromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];

let extraction: Promise<{ executablePath: string; env: NodeJS.ProcessEnv }> | undefined;

/**
 * @sparticuz/chromium inflates its brotli files into the temp dir (chromium, fonts/, the SwiftShader libraries) and
 * takes anything already there as done. That is unsafe when vitest runs e2e files in parallel processes (a second
 * process launches the half-written binary: ETXTBSY) and after an interrupted run (an empty /tmp/chromium that every
 * later run launches). So one process at a time extracts, under a lock file, and a marker written once everything
 * is complete says the files are there and of this package version; without it they are removed and extracted again.
 */
const extractBundled = async () => {
  const tmp = tmpdir();
  const binDir = join(dirname(createRequire(import.meta.url).resolve('@sparticuz/chromium')), '..', 'bin');
  const { version } = JSON.parse(readFileSync(join(binDir, '..', 'package.json'), 'utf8')) as { version: string };
  const executablePath = join(tmp, 'chromium');
  // The binary needs NSS and expat besides glibc; the package ships them, built for Amazon Linux 2023 (glibc 2.34).
  // Where they load, use them, so no system package is needed; on an older glibc the host's libraries must do.
  const libDir = glibcAtLeast(2, 34) ? join(tmp, 'al2023', 'lib') : undefined;
  const marker = join(tmp, 'parley-chromium.json');
  const expected = (size: number) => JSON.stringify({ version, size, libDir });
  const ready = () =>
    existsSync(executablePath) &&
    existsSync(marker) &&
    readFileSync(marker, 'utf8') === expected(statSync(executablePath).size) &&
    (!libDir || existsSync(join(libDir, 'libnss3.so')));

  if (!ready()) {
    const release = await lock(join(tmp, 'parley-chromium.lock'));
    try {
      if (!ready()) {
        rmSync(marker, { force: true });
        // What @sparticuz/chromium checks to skip an extraction: remove it, so a partial one is done again.
        for (const done of ['chromium', 'fonts', 'libGLESv2.so', 'al2023']) {
          rmSync(join(tmp, done), { recursive: true, force: true });
        }
        const path = await sparticuz.executablePath();
        if (path !== executablePath) throw new Error(`@sparticuz/chromium extracted to ${path}, not ${executablePath}`);
        if (libDir) await inflate(join(binDir, 'al2023.tar.br'));
        writeFileSync(`${marker}.${process.pid}`, expected(statSync(executablePath).size));
        renameSync(`${marker}.${process.pid}`, marker);
      }
    } finally {
      release();
    }
  }
  const ldPath = [libDir, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':');
  return { executablePath, env: { ...process.env, ...(ldPath ? { LD_LIBRARY_PATH: ldPath } : {}) } };
};

const glibcAtLeast = (major: number, minor: number) => {
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  const [hostMajor = 0, hostMinor = 0] = (report?.header?.glibcVersionRuntime ?? '0.0').split('.').map(Number);
  return hostMajor > major || (hostMajor === major && hostMinor >= minor);
};

/** A lock file holding its owner's pid; one left by a process that died is taken over. */
const lock = async (path: string): Promise<() => void> => {
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    if (ownerIsGone(path)) {
      rmSync(path, { force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${path} (remove it if no test run is going on)`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
};

const ownerIsGone = (path: string) => {
  try {
    const pid = Number(readFileSync(path, 'utf8'));
    // Empty: just created, its pid not written yet, unless that was long ago.
    if (!pid) return Date.now() - statSync(path).mtimeMs > 10_000;
    process.kill(pid, 0);
    return false;
  } catch (error) {
    // ESRCH: no such process. EPERM: alive, another user's. ENOENT: released meanwhile.
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
};
