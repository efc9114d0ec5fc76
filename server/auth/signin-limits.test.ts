import { describe, expect, it } from "vitest";
import { backoffSeconds, explainRateLimit, waitWords } from "./signin-limits";

describe("per-account sign-in backoff", () => {
  it("waits nothing for the first four failures, then 1 min doubling up to 15 min", () => {
    expect([0, 1, 4].map(backoffSeconds)).toEqual([0, 0, 0]);
    expect([5, 6, 7, 8, 9, 10, 50].map(backoffSeconds)).toEqual([60, 120, 240, 480, 900, 900, 900]);
  });

  it("says waits in words", () => {
    expect([0.2, 42, 60, 150, 900].map(waitWords)).toEqual(["1 s", "42 s", "1 min", "2 min 30 s", "15 min"]);
  });

  it("explains better-auth's per-address refusal with the reason and a standard Retry-After", async () => {
    const refused = new Response(JSON.stringify({ message: "Too many requests. Please try again later." }), {
      status: 429,
      headers: { "X-Retry-After": "42" },
    });
    const r = explainRateLimit(new Request("http://x/api/auth/sign-in/email"), refused);
    expect(r.status).toBe(429);
    expect(r.headers.get("retry-after")).toBe("42");
    expect(await r.json()).toEqual({
      message: "Too many sign-in attempts from your address: try again in 42 s.",
      code: "RATE_LIMITED",
      retryAfter: 42,
    });
    const ok = new Response("{}", { status: 200 });
    expect(explainRateLimit(new Request("http://x/api/auth/get-session"), ok)).toBe(ok);
  });
});
