import type { IncomingMessage } from 'node:http';

export type BodyResult = { ok: true; body: Buffer } | { ok: false; reason: 'too_large' | 'aborted' };

/** How long, and how much more, a request over its limit may keep sending after it was answered. */
const discardGraceMs = 5_000;
const discardGraceBytes = 16 * 1024 * 1024;

/**
 * Reads a request body of at most `limit` bytes. Over the limit (by `Content-Length`, or as it streams) it
 * resolves at once with `too_large` and keeps nothing more: the caller answers 413 while the rest is discarded,
 * so a client that is still sending can read that answer; one that keeps sending past the grace is cut off.
 * A client that goes away resolves `aborted`. Never rejects.
 */
export const readLimitedBody = (req: IncomingMessage, limit: number): Promise<BodyResult> =>
  new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    let discarding = false;
    let discarded = 0;
    let graceTimer: NodeJS.Timeout | undefined;
    const settle = (result: BodyResult) => {
      if (settled) return;
      settled = true;
      resolve(result);
    };
    const cutOff = () => req.socket?.destroy();
    const startDiscarding = () => {
      discarding = true;
      chunks.length = 0;
      graceTimer = setTimeout(cutOff, discardGraceMs);
      graceTimer.unref();
      settle({ ok: false, reason: 'too_large' });
    };

    req.on('error', () => settle({ ok: false, reason: 'aborted' }));
    req.on('close', () => {
      if (graceTimer) clearTimeout(graceTimer);
      if (!req.complete) settle({ ok: false, reason: 'aborted' });
    });
    req.on('end', () => {
      if (graceTimer) clearTimeout(graceTimer);
      settle({ ok: true, body: Buffer.concat(chunks) });
    });
    req.on('data', (chunk: Buffer) => {
      if (discarding) {
        discarded += chunk.length;
        if (discarded > discardGraceBytes) cutOff();
        return;
      }
      size += chunk.length;
      if (size > limit) return startDiscarding();
      chunks.push(chunk);
    });

    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) startDiscarding();
  });
