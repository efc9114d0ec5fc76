import dgram from "node:dgram";
import { randomBytes } from "node:crypto";
import net from "node:net";

/** A DNS message with `count` questions whose 63-byte labels are not valid UTF-8 (~69 bytes each). */
export function manyQuestions(count: number): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(0x1234, 0);
  header.writeUInt16BE(0x0100, 2); // a standard query, recursion desired
  header.writeUInt16BE(count, 4);
  const question = Buffer.concat([
    Buffer.from([63]),
    Buffer.alloc(63, 0xff),
    Buffer.from([0, 0, 1, 0, 1]), // root, type A, class IN
  ]);
  return Buffer.concat([header, ...Array.from({ length: count }, () => question)]);
}

/**
 * What a hostile or broken client sends a DNS server: random datagrams, a header that
 * claims 65535 questions, an oversized many-question query over TCP, a TCP frame whose
 * length lies, and a client that connects and stalls. Resolves when all were sent.
 */
export async function dnsGarbage(host: string, port: number): Promise<void> {
  const udp = dgram.createSocket(host.includes(":") ? "udp6" : "udp4");
  const send = (b: Buffer) => new Promise<void>((resolve) => udp.send(b, port, host, () => resolve()));
  for (let i = 0; i < 20; i++) await send(randomBytes(1 + ((i * 37) % 512)));
  const lying = Buffer.alloc(12);
  lying.writeUInt16BE(0xffff, 4);
  await send(lying);
  await send(manyQuestions(7)); // 500-odd bytes of undecodable names
  udp.close();

  const tcp = (payload: Buffer, holdMs = 0) =>
    new Promise<void>((resolve) => {
      const s = net.connect(port, host, () => {
        s.write(payload);
        setTimeout(() => s.destroy(), holdMs).unref();
      });
      s.on("error", () => resolve());
      s.on("close", () => resolve());
      s.setTimeout(5000, () => s.destroy());
    });
  const big = manyQuestions(800); // ~55 KB: a reply would not fit a TCP frame
  const framed = Buffer.concat([Buffer.from([big.length >> 8, big.length & 0xff]), big]);
  await Promise.all([
    tcp(framed, 2000),
    tcp(Buffer.concat([Buffer.from([0xff, 0xff]), randomBytes(100)]), 500),
    tcp(Buffer.from([0x00]), 8000), // half a length prefix, then silence
  ]);
}
