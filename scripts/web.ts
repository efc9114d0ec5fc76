/**
 * The web app's process (started by `npm start` in place of `next start`/`next dev`): Next's
 * custom-server API behind server/web/server.ts, which derives the client's real address
 * (TRUSTED_PROXIES) and sets the security headers (docs/security.md).
 *   node --import tsx scripts/web.ts [--dev]
 */
import next from "next";
import { config, ConfigError } from "../server/config";
import { securityHeaders } from "../server/web/headers";
import { createWebServer } from "../server/web/server";
import { trustedProxies } from "../server/web/client-address";
import { endWithSupervisor } from "../server/crash-log";

const dev = process.argv.includes("--dev");
let cfg: ReturnType<typeof config>;
try {
  cfg = config();
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(err.message);
    process.exit(1);
  }
  throw err;
}

// Dev's HMR websocket finds this server through its requests' sockets (Next's custom-server API).
const app = next({ dev, hostname: cfg.HOSTNAME, port: cfg.PORT });
await app.prepare();
const server = createWebServer({
  handle: app.getRequestHandler(),
  isTrustedProxy: trustedProxies(cfg.TRUSTED_PROXIES),
  headers: securityHeaders({ appUrl: cfg.APP_URL, tileUrl: cfg.MAP_TILE_URL, dev }),
  onError: (err) => console.error("[web] request failed:", err),
});
server.on("error", (err) => {
  console.error(`[web] cannot listen on ${cfg.HOSTNAME}:${cfg.PORT}: ${err.message}`);
  process.exit(1);
});
server.listen(cfg.PORT, cfg.HOSTNAME, () => console.log(`[web] listening on http://${cfg.HOSTNAME}:${cfg.PORT}`));

function stop() {
  server.close();
  void app.close().finally(() => process.exit(0));
  // Open keep-alive connections must not hold the exit.
  setTimeout(() => process.exit(0), 3000).unref();
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
endWithSupervisor(stop);
