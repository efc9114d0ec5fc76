import { describe, expect, it } from "vitest";
import { DatabaseUnavailable, isDatabaseUnavailable } from "./unavailable";

describe("isDatabaseUnavailable", () => {
  it("sees a restart through the wrapping of an auth library and Prisma's driver adapter", () => {
    // better-auth's APIError ← Prisma's known request error ← the adapter's DatabaseNotReachable.
    const adapter = Object.assign(new Error("DatabaseNotReachable"), { name: "DriverAdapterError" });
    const prisma = Object.assign(new Error("\nInvalid `prisma.session.findFirst()` invocation:\n"), {
      code: "P1001",
      meta: { modelName: "Session", driverAdapterError: adapter },
    });
    expect(isDatabaseUnavailable(new Error("Failed to get session", { cause: prisma }))).toBe(true);
    expect(isDatabaseUnavailable(Object.assign(new Error(""), { code: "57P01" }))).toBe(true);
    expect(
      isDatabaseUnavailable(new Error("connect", { cause: Object.assign(new Error(""), { code: "ECONNREFUSED" }) })),
    ).toBe(true);
  });

  it("leaves other errors alone, and errors of another kind that `notMine` names", () => {
    expect(isDatabaseUnavailable(new Error("duplicate key value violates unique constraint"))).toBe(false);
    expect(isDatabaseUnavailable(Object.assign(new Error(""), { code: "P2002" }))).toBe(false);
    class HostFault extends Error {}
    const ssh = Object.assign(new HostFault("host x: connection refused"), { code: "ECONNREFUSED" });
    expect(isDatabaseUnavailable(ssh, (e) => e instanceof HostFault)).toBe(false);
  });

  it("says what happened in words", () => {
    expect(new DatabaseUnavailable(new Error("x")).message).toMatch(/database cannot be reached right now/);
  });
});
