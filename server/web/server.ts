import http from "node:http";
import { CLIENT_ADDRESS_HEADER, clientAddress } from "./client-address";

export type Handle = (req: http.IncomingMessage, res: http.ServerResponse) => unknown;

/**
 * The web app's HTTP front (docs/security.md): works out the client's real address from the
 * socket (X-Forwarded-For only from trusted proxies) and hands it on in a header of its own,
 * removing any copy the client sent; X-Forwarded-For is replaced by that same address, so
 * nothing behind it can read a forged one. Every answer carries the security headers.
 */
export function createWebServer(opts: {
  handle: Handle;
  isTrustedProxy: (address: string) => boolean;
  headers: Record<string, string>;
  onError?: (err: unknown) => void;
}): http.Server {
  return http.createServer((req, res) => {
    const address = clientAddress(req.socket.remoteAddress, req.headers["x-forwarded-for"], opts.isTrustedProxy);
    const replaced = new Set([CLIENT_ADDRESS_HEADER, "x-forwarded-for"]);
    const raw: string[] = [];
    for (let i = 0; i + 1 < req.rawHeaders.length; i += 2)
      if (!replaced.has(req.rawHeaders[i]!.toLowerCase())) raw.push(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
    raw.push(CLIENT_ADDRESS_HEADER, address, "x-forwarded-for", address);
    req.rawHeaders.splice(0, req.rawHeaders.length, ...raw);
    req.headers[CLIENT_ADDRESS_HEADER] = address;
    req.headers["x-forwarded-for"] = address;
    for (const [name, value] of Object.entries(opts.headers)) res.setHeader(name, value);
    Promise.resolve()
      .then(() => opts.handle(req, res))
      .catch((err: unknown) => {
        opts.onError?.(err);
        if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
        res.end("Internal server error");
      });
  });
}
