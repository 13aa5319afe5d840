import type { Duplex } from 'node:stream';

/**
 * Watches the frames a WebSocket client sends, reading only their headers, and calls `onTooLarge` once when a data
 * frame declares a payload over `maxFrameBytes` (API Gateway's 32 KB frame limit; `ws` only caps whole messages).
 * It listens before the WebSocket library does, so the call comes before that frame could be delivered.
 * Returns a function that stops watching.
 */
export const watchFrameSizes = (socket: Duplex, maxFrameBytes: number, onTooLarge: () => void): (() => void) => {
  let header = Buffer.alloc(0);
  let payloadLeft = 0;

  const onData = (chunk: Buffer) => {
    let offset = 0;
    while (offset < chunk.length) {
      if (payloadLeft > 0) {
        const skipped = Math.min(payloadLeft, chunk.length - offset);
        payloadLeft -= skipped;
        offset += skipped;
        continue;
      }
      // Gather the header: 2 bytes, then 0, 2 or 8 of extended length, then 4 of mask when masked.
      const wanted = header.length < 2 ? 2 : headerLength(header);
      const taken = Math.min(wanted - header.length, chunk.length - offset);
      header = Buffer.concat([header, chunk.subarray(offset, offset + taken)]);
      offset += taken;
      if (header.length < 2 || header.length < headerLength(header)) continue;
      const opcode = (header[0] as number) & 0x0f;
      const length = payloadLength(header);
      header = Buffer.alloc(0);
      if (opcode < 0x08 && length > maxFrameBytes) {
        stop();
        onTooLarge();
        return;
      }
      payloadLeft = length;
    }
  };
  const stop = () => socket.removeListener('data', onData);
  socket.prependListener('data', onData);
  return stop;
};

const headerLength = (header: Buffer): number => {
  const second = header[1] as number;
  const length7 = second & 0x7f;
  const extended = length7 === 126 ? 2 : length7 === 127 ? 8 : 0;
  return 2 + extended + (second & 0x80 ? 4 : 0);
};

const payloadLength = (header: Buffer): number => {
  const length7 = (header[1] as number) & 0x7f;
  if (length7 === 126) return header.readUInt16BE(2);
  if (length7 === 127) return Number(header.readBigUInt64BE(2));
  return length7;
};
