/**
 * Security headers for every page, API answer and static file of the web app, set by the
 * custom server (scripts/web.ts) from the running configuration (docs/security.md,
 * "Secrets and headers").
 */
export function securityHeaders(opts: { appUrl?: string; tileUrl?: string; dev: boolean }): Record<string, string> {
  const https = opts.appUrl?.startsWith("https://") ?? false;
  const images = ["'self'", "data:", "blob:"];
  const tiles = tileSource(opts.tileUrl);
  if (tiles) images.push(tiles);
  const csp = [
    "default-src 'self'",
    // Next's App Router inlines its bootstrap and flight data as <script> without nonces on
    // static pages; the dev server also evaluates modules (React Refresh).
    `script-src 'self' 'unsafe-inline'${opts.dev ? " 'unsafe-eval'" : ""}`,
    // Leaflet and uPlot position their elements with inline styles.
    "style-src 'self' 'unsafe-inline'",
    `img-src ${images.join(" ")}`,
    "font-src 'self' data:",
    `connect-src 'self'${opts.dev ? " ws: wss:" : ""}`,
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
  return {
    "Content-Security-Policy": csp,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    // Tile servers ask for the origin as Referer; full URLs (with ids in them) stay inside.
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    "Cross-Origin-Opener-Policy": "same-origin",
    // HSTS only where the app is served over https: on http a browser ignores it anyway, and
    // on localhost it would pin every other local app to https.
    ...(https ? { "Strict-Transport-Security": "max-age=31536000; includeSubDomains" } : {}),
  };
}

/** The CSP source of a tile URL template: its origin, with {s} subdomains as a wildcard. */
export function tileSource(template: string | undefined): string | null {
  if (!template) return null;
  const m = /^(https?):\/\/([^/?#]+)/.exec(template);
  if (!m) return null;
  const host = m[2]!.replace(/\{s\}/g, "*");
  if (/[{}\s'";]/.test(host)) return `${m[1]}:`;
  return `${m[1]}://${host}`;
}
