import { describe, expect, it } from "vitest";
import { isLoopback, metricsAccess } from "./access";
import { parseLabels } from "./prometheus";

const TOKEN = "a-metrics-token-of-some-length";

describe("who may read /metrics", () => {
  it("with METRICS_TOKEN: the right bearer token only, from anywhere", () => {
    const ask = (authorization: string | null) =>
      metricsAccess({ token: TOKEN, production: true, authorization, clientAddress: "203.0.113.9" });
    expect(ask(`Bearer ${TOKEN}`)).toEqual({ ok: true });
    expect(ask(null)).toEqual({ ok: false, status: 401, reason: "Send Authorization: Bearer <METRICS_TOKEN>." });
    expect(ask("Bearer nope")).toEqual({ ok: false, status: 401, reason: "Wrong metrics token." });
    expect(ask(`Basic ${TOKEN}`)).toMatchObject({ ok: false, status: 401 });
  });

  it("without a token: this machine only in demo mode, nobody in production mode", () => {
    const ask = (clientAddress: string | null, production = false) =>
      metricsAccess({ token: undefined, production, authorization: null, clientAddress });
    expect(ask("127.0.0.1")).toEqual({ ok: true });
    expect(ask("::1")).toEqual({ ok: true });
    expect(ask("::ffff:127.0.0.1")).toEqual({ ok: true });
    expect(ask("192.168.1.20")).toMatchObject({ ok: false, status: 403 });
    expect(ask(null)).toMatchObject({ ok: false, status: 403 });
    expect(ask("127.0.0.1", true)).toEqual({
      ok: false,
      status: 403,
      reason: "Metrics need METRICS_TOKEN in production mode (docs/security.md).",
    });
  });

  it("knows loopback in its spellings and nothing else", () => {
    expect(["127.0.0.1", "127.1.2.3", "::1", "::FFFF:127.0.0.1"].every(isLoopback)).toBe(true);
    expect(["128.0.0.1", "::2", "localhost", "", "127.0.0.1.evil"].some(isLoopback)).toBe(false);
  });

  it("reads back the label sets counters are stored with", () => {
    expect(parseLabels('outcome="NOERROR",transport="udp"')).toEqual({ outcome: "NOERROR", transport: "udp" });
    expect(parseLabels("")).toEqual({});
  });
});
