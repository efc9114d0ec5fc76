import { describe, expect, it } from "vitest";
import { securityHeaders, tileSource } from "./headers";

describe("security headers", () => {
  it("forbid framing and sniffing everywhere; HSTS only for an https APP_URL", () => {
    const local = securityHeaders({ appUrl: "http://localhost:3000", dev: false });
    expect(local["Content-Security-Policy"]).toContain("frame-ancestors 'none'");
    expect(local["X-Content-Type-Options"]).toBe("nosniff");
    expect(local["Referrer-Policy"]).toBe("strict-origin-when-cross-origin");
    expect(local["Strict-Transport-Security"]).toBeUndefined();

    const prod = securityHeaders({ appUrl: "https://vmatrix.example.com", dev: false });
    expect(prod["Strict-Transport-Security"]).toMatch(/^max-age=31536000/);
  });

  it("allow eval only in development and the tile server's images only when configured", () => {
    expect(securityHeaders({ dev: false })["Content-Security-Policy"]).not.toContain("unsafe-eval");
    expect(securityHeaders({ dev: true })["Content-Security-Policy"]).toContain("'unsafe-eval'");
    expect(securityHeaders({ dev: false })["Content-Security-Policy"]).toMatch(/img-src 'self' data: blob:;/);
    const withTiles = securityHeaders({ dev: false, tileUrl: "https://tile.openstreetmap.org/{z}/{x}/{y}.png" });
    expect(withTiles["Content-Security-Policy"]).toMatch(/img-src [^;]* https:\/\/tile\.openstreetmap\.org;/);
  });

  it("turn tile templates into sources", () => {
    expect(tileSource("https://{s}.tile.example.org/{z}/{x}/{y}.png")).toBe("https://*.tile.example.org");
    expect(tileSource("http://127.0.0.1:8080/{z}/{x}/{y}.png")).toBe("http://127.0.0.1:8080");
    expect(tileSource("https://{r}.example.org/{z}/{x}/{y}.png")).toBe("https:");
    expect(tileSource(undefined)).toBeNull();
  });
});
