/**
 * A request the product turns down, with the reason in words and the kind of refusal
 * (which the API maps to its error code). Domain modules throw it; routers and the CLI
 * show its message as is.
 */
export type RefusalCode =
  | "NOT_FOUND"
  | "CONFLICT"
  | "PRECONDITION_FAILED"
  | "BAD_REQUEST"
  // A part the request needs is away (no oracle running), or slower than the wait (server/calls/).
  | "SERVICE_UNAVAILABLE"
  | "TIMEOUT"
  | "INTERNAL_SERVER_ERROR";

export class Refused extends Error {
  override name = "Refused";
  constructor(
    readonly code: RefusalCode,
    message: string,
  ) {
    super(message);
  }
}
