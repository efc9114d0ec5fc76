import { isDatabaseUnavailable, DATABASE_UNAVAILABLE_MESSAGE } from "../db/unavailable";
import { HostError, InvalidArgumentError } from "../hosts/errors";
import { BookingFieldError, type FieldIssue } from "../matches/errors";
import { Refused, type RefusalCode } from "../refused";

/** A failed call as the oracle records it: the API code, the reason in words, and a form's issues if any. */
export interface CallFailure {
  code: RefusalCode;
  message: string;
  issues?: FieldIssue[];
}

/**
 * How a call's error travels from the oracle to the web app: as the API would have answered
 * it had the web app run the call itself (server/api/db-errors.ts maps the same classes).
 */
export function failureOf(err: unknown): CallFailure {
  if (err instanceof BookingFieldError) return { code: "BAD_REQUEST", message: err.message, issues: err.issues };
  if (err instanceof Refused) return { code: err.code, message: err.message };
  if (err instanceof InvalidArgumentError) return { code: "BAD_REQUEST", message: err.message };
  if (err instanceof HostError) return { code: "PRECONDITION_FAILED", message: err.message };
  if (isDatabaseUnavailable(err)) return { code: "SERVICE_UNAVAILABLE", message: DATABASE_UNAVAILABLE_MESSAGE };
  const message = err instanceof Error ? err.message : String(err);
  return { code: "INTERNAL_SERVER_ERROR", message: `The oracle failed: ${message.split("\n")[0]!.slice(0, 500)}` };
}

/** The error the web app raises for a failed call: the same words, the same API code. */
export function failureError(f: CallFailure): Error {
  return f.issues?.length ? new BookingFieldError(f.issues) : new Refused(f.code, f.message);
}
