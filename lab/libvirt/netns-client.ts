/**
 * A client that runs inside one of the libvirt lab's network namespaces (started with
 * `ip netns exec NS node --import tsx lab/libvirt/netns-client.ts MODE …` by edge-fixture.ts):
 * Node cannot change its own namespace, so whatever must come from "the internet" (or from
 * inside an edge) is a child process. Output is JSON, one object per line.
 *
 *   resolve SERVER PORT NAME [SUBNET]        DNS A query over UDP (with an EDNS client subnet)
 *   get URL LOCAL TIMEOUT_MS                 one HTTP GET from source address LOCAL
 *   connect ADDRESS PORT LOCAL TIMEOUT_MS    does a TCP connection open?
 *   loop URL LOCAL RATE MAX_MS               GETs at RATE per second until stdin closes (or MAX_MS): one line per request
 *   hold FRONT_ADDR FRONT_PORT SERVER_ADDR SERVER_PORT N MAX_MS
 *                                            a server that accepts and never answers, and N requests to a
 *                                            frontend that reaches it; prints {"ready":N} once it holds N;
 *                                            ends when every socket is closed (or MAX_MS)
 *   serve ADDRESS PORT NAME MAX_MS           an HTTP server answering {"name":NAME,"from":CLIENT_ADDRESS}; prints
 *                                            {"listening":PORT}; ends when stdin closes (or MAX_MS)
 */
import { createSocket } from "node:dgram";
import http from "node:http";
import net from "node:net";
import dnsPacket from "dns-packet";

const out = (o: unknown) => process.stdout.write(JSON.stringify(o) + "\n");

function get(
  url: string,
  local: string,
  timeoutMs: number,
): Promise<{ status?: number; body?: string; error?: string; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const req = http.get(
      url,
      { localAddress: local, agent: false, timeout: timeoutMs, headers: { connection: "close" } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString("utf8"), ms: performance.now() - t0 }),
        );
        res.on("error", (e) => resolve({ error: e.message, ms: performance.now() - t0 }));
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer in ${timeoutMs} ms`)));
    req.on("error", (e) => resolve({ error: e.message, ms: performance.now() - t0 }));
  });
}

async function resolve(server: string, port: number, name: string, subnet?: string) {
  const socket = createSocket("udp4");
  const [addr, bits] = subnet ? subnet.split("/") : [];
  const query = dnsPacket.encode({
    id: 7,
    type: "query",
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ name, type: "A", class: "IN" }],
    ...(addr
      ? {
          additionals: [
            {
              type: "OPT",
              name: ".",
              udpPayloadSize: 1232,
              options: [
                { code: "CLIENT_SUBNET", family: 1, sourcePrefixLength: Number(bits), scopePrefixLength: 0, ip: addr },
              ],
            } as unknown as dnsPacket.Answer,
          ],
        }
      : {}),
  });
  const reply = new Promise<Buffer>((ok, fail) => {
    socket.once("message", ok);
    setTimeout(() => fail(new Error("no DNS answer in 3 s")), 3000).unref();
  });
  socket.send(query, port, server);
  try {
    const p = dnsPacket.decode(await reply) as {
      rcode?: string;
      answers?: { type: string; data: unknown; ttl?: number }[];
    };
    out({
      rcode: p.rcode,
      answers: (p.answers ?? []).filter((a) => a.type === "A").map((a) => ({ address: String(a.data), ttl: a.ttl })),
    });
  } finally {
    socket.close();
  }
}

function connect(address: string, port: number, local: string, timeoutMs: number) {
  return new Promise<void>((done) => {
    const s = net.connect({ host: address, port, localAddress: local });
    const timer = setTimeout(() => {
      s.destroy();
      out({ connected: false, error: `no answer in ${timeoutMs} ms` });
      done();
    }, timeoutMs);
    s.on("connect", () => {
      clearTimeout(timer);
      s.destroy();
      out({ connected: true });
      done();
    });
    s.on("error", (e) => {
      clearTimeout(timer);
      out({ connected: false, error: e.message });
      done();
    });
  });
}

async function loop(url: string, local: string, rate: number, maxMs: number) {
  let stop = false;
  process.stdin.on("close", () => (stop = true));
  process.stdin.on("end", () => (stop = true));
  process.stdin.resume();
  const until = Date.now() + maxMs;
  const inFlight = new Set<Promise<void>>();
  const gap = 1000 / rate;
  let next = performance.now();
  while (!stop && Date.now() < until) {
    const at = Date.now();
    const p: Promise<void> = get(url, local, 10_000).then((r) => {
      out({
        at,
        ms: Math.round(r.ms * 10) / 10,
        status: r.status,
        error: r.error,
        server:
          r.status === 200
            ? /"name":"([^"]+)"|<title>([^<]+)<\/title>/
                .exec(r.body ?? "")
                ?.slice(1)
                .find(Boolean)
            : undefined,
      });
      inFlight.delete(p);
    });
    inFlight.add(p);
    next += gap;
    await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())));
  }
  await Promise.all(inFlight);
}

async function hold(
  frontAddr: string,
  frontPort: number,
  serverAddr: string,
  serverPort: number,
  n: number,
  maxMs: number,
) {
  const open = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer((s) => {
    open.add(s);
    accepted++;
    s.on("error", () => undefined);
    s.on("close", () => open.delete(s));
    if (accepted === n) out({ ready: n });
  });
  await new Promise<void>((r) => server.listen(serverPort, serverAddr, r));
  for (let i = 0; i < n; i++) {
    const c = net.connect({ host: frontAddr, port: frontPort });
    open.add(c);
    c.on("connect", () => c.write(`GET /hold/${i} HTTP/1.1\r\nHost: hold\r\n\r\n`));
    c.on("error", () => undefined);
    c.on("close", () => open.delete(c));
  }
  const until = Date.now() + maxMs;
  while (Date.now() < until && (accepted < n || open.size > 0)) await new Promise((r) => setTimeout(r, 50));
  for (const s of open) s.destroy();
  server.close();
  out({ ended: accepted });
}

async function serve(address: string, port: number, name: string, maxMs: number) {
  const server = http.createServer((req, res) => {
    res.writeHead(200, { "content-type": "application/json", connection: "close" });
    res.end(JSON.stringify({ name, from: req.socket.remoteAddress, path: req.url }) + "\n");
  });
  await new Promise<void>((r) => server.listen(port, address, r));
  out({ listening: port });
  await new Promise<void>((r) => {
    process.stdin.on("close", r);
    process.stdin.on("end", r);
    process.stdin.resume();
    setTimeout(r, maxMs).unref();
  });
  server.close();
}

const [mode, ...a] = process.argv.slice(2);
try {
  if (mode === "resolve") await resolve(a[0]!, Number(a[1]), a[2]!, a[3]);
  else if (mode === "get") out(await get(a[0]!, a[1]!, Number(a[2])));
  else if (mode === "connect") await connect(a[0]!, Number(a[1]), a[2]!, Number(a[3]));
  else if (mode === "loop") await loop(a[0]!, a[1]!, Number(a[2]), Number(a[3]));
  else if (mode === "hold") await hold(a[0]!, Number(a[1]), a[2]!, Number(a[3]), Number(a[4]), Number(a[5]));
  else if (mode === "serve") await serve(a[0]!, Number(a[1]), a[2]!, Number(a[3]));
  else throw new Error(`unknown mode ${JSON.stringify(mode)}`);
  process.exit(0);
} catch (e) {
  out({ error: (e as Error).message });
  process.exit(1);
}
