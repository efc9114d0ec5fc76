import { describe, expect, it } from "vitest";
import { bearerToken, TokenRefused } from "./tokens";

const h = (authorization?: string) => new Headers(authorization === undefined ? {} : { authorization });

describe("bearerToken", () => {
  it("takes the token of a Bearer header, any case, extra spaces around it", () => {
    expect(bearerToken(h("Bearer vmx_abc"))).toBe("vmx_abc");
    expect(bearerToken(h("bearer   vmx_abc  "))).toBe("vmx_abc");
  });

  it("leaves a request without one, or with another scheme (a proxy's Basic), to its session cookie", () => {
    expect(bearerToken(h())).toBeNull();
    expect(bearerToken(h("Basic dXNlcjpwYXNz"))).toBeNull();
    expect(bearerToken(h("BearerToken x"))).toBeNull();
  });

  it("refuses a Bearer header without exactly one token, saying what it must be", () => {
    for (const bad of ["Bearer", "Bearer ", "Bearer a b"]) {
      expect(() => bearerToken(h(bad))).toThrow(TokenRefused);
      expect(() => bearerToken(h(bad))).toThrow("the Authorization header must be `Bearer <token>`, one token");
    }
  });
});
