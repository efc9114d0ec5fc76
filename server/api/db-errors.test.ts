import { describe, expect, it } from "vitest";
import { toApiError } from "./db-errors";

describe("database refusals as API errors", () => {
  it("explains an overlapping booking and a busy production host", () => {
    expect(
      toApiError({ message: 'violates exclusion constraint "Match_no_overlapping_bookings_per_host"' })?.message,
    ).toMatch(/already booked/);
    expect(
      toApiError({ message: 'duplicate key value violates unique constraint "Vm_one_production_vm_per_host"' })?.code,
    ).toBe("CONFLICT");
  });
  it("maps Prisma's not-found and unique errors, and leaves others alone", () => {
    expect(toApiError({ code: "P2025" })?.code).toBe("CONFLICT");
    expect(toApiError({ code: "P2003" })?.code).toBe("NOT_FOUND");
    expect(toApiError(new Error("boom"))).toBeNull();
    expect(toApiError(undefined)).toBeNull();
  });
});
