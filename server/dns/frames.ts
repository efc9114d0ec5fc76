/**
 * DNS over TCP framing (RFC 1035 §4.2.2, RFC 7766 §8): every message is preceded by its
 * length as two bytes, big-endian. A stream may carry several messages, and TCP may split
 * or join them anywhere, so bytes are collected until whole messages can be cut out.
 */
export class FrameReader {
  private buffered: Buffer = Buffer.alloc(0);

  /** Adds bytes read from the stream; returns the messages they complete, in order. */
  push(chunk: Buffer): Buffer[] {
    this.buffered = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : chunk;
    const messages: Buffer[] = [];
    while (this.buffered.length >= 2) {
      const length = this.buffered.readUInt16BE(0);
      if (this.buffered.length < 2 + length) break;
      messages.push(this.buffered.subarray(2, 2 + length));
      this.buffered = this.buffered.subarray(2 + length);
    }
    return messages;
  }

  /** Bytes of an incomplete message still waiting for the rest. */
  get pending(): number {
    return this.buffered.length;
  }
}

/** One message framed for TCP. A DNS message is at most 65,535 bytes: longer is a bug upstream. */
export function frame(message: Buffer): Buffer {
  if (message.length > 0xffff)
    throw new RangeError(`a DNS message over TCP is at most 65535 bytes, not ${message.length}`);
  const out = Buffer.allocUnsafe(2 + message.length);
  out.writeUInt16BE(message.length, 0);
  message.copy(out, 2);
  return out;
}
