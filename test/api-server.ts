/**
 * The product's tRPC API over HTTP without Next, for the CLI's integration tests: the real
 * route handler (app/api/trpc/[trpc]/route.ts: the same router, context and bearer-token
 * check) behind a plain Node HTTP server on 127.0.0.1. Its database and settings come from
 * the environment, as the web app's do. Prints `listening http://127.0.0.1:PORT` when ready.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { POST } from "../app/api/trpc/[trpc]/route";

const server = createServer((req, res) => {
  void (async () => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    if (!url.pathname.startsWith("/api/trpc/")) {
      res.writeHead(404).end("not found");
      return;
    }
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers.set(k, [v].flat().join(", "));
    const hasBody = req.method !== "GET" && req.method !== "HEAD";
    // The route exports one handler for GET and POST.
    const response = await POST(
      new Request(url, {
        method: req.method,
        headers,
        body: hasBody ? (Readable.toWeb(req) as ReadableStream) : undefined,
        duplex: "half",
      } as RequestInit),
    );
    res.writeHead(response.status, Object.fromEntries(response.headers));
    res.end(Buffer.from(await response.arrayBuffer()));
  })().catch((err: unknown) => {
    res.writeHead(500).end(String(err));
  });
});
server.listen(0, "127.0.0.1", () => {
  console.log(`listening http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
process.on("SIGTERM", () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
