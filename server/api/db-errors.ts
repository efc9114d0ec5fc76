import { TRPCError } from "@trpc/server";
import { HostError, InvalidArgumentError } from "../hosts/errors";
import { Refused } from "../refused";
import { DATABASE_UNAVAILABLE_MESSAGE, isDatabaseUnavailable } from "../db/unavailable";

/**
 * Turns database refusals into API errors a user can act on. Integrity lives in the
 * database (constraints), so its refusals are normal answers, not crashes.
 */
export function toApiError(err: unknown): TRPCError | null {
  if (!err || typeof err !== "object") return null;
  // Host problems are answers in words ("host x: unreachable at …"), not server crashes.
  if (err instanceof InvalidArgumentError) {
    return new TRPCError({ code: "BAD_REQUEST", message: err.message, cause: err });
  }
  if (err instanceof Refused) return new TRPCError({ code: err.code, message: err.message, cause: err });
  if (err instanceof HostError) return new TRPCError({ code: "PRECONDITION_FAILED", message: err.message, cause: err });
  // A database restart or outage passes: say so (503), rather than a bare internal error.
  if (isDatabaseUnavailable(err))
    return new TRPCError({ code: "SERVICE_UNAVAILABLE", message: DATABASE_UNAVAILABLE_MESSAGE, cause: err });
  const e = err as { code?: unknown; meta?: Record<string, unknown>; message?: unknown };
  const message = typeof e.message === "string" ? e.message : "";
  switch (e.code) {
    case "P2025":
      return new TRPCError({
        code: "CONFLICT",
        message: "The record changed or disappeared meanwhile; reload and try again.",
        cause: err,
      });
    case "P2002":
      return new TRPCError({ code: "CONFLICT", message: "That already exists.", cause: err });
    case "P2003":
      return new TRPCError({ code: "NOT_FOUND", message: "A referenced record does not exist.", cause: err });
  }
  if (/Match_no_overlapping_bookings_per_host|23P01/.test(message)) {
    return new TRPCError({
      code: "CONFLICT",
      message: "That server is already booked for an overlapping time.",
      cause: err,
    });
  }
  if (/Vm_one_production_vm_per_host/.test(message)) {
    return new TRPCError({ code: "CONFLICT", message: "That production host already runs a VM.", cause: err });
  }
  return null;
}
