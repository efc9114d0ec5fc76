/**
 * A request the product turns down, with the reason in words and the kind of refusal
 * (which the API maps to its error code). Domain modules throw it; routers and the CLI
 * show its message as is.
 */
export class Refused extends Error {
  override name = "Refused";
  constructor(
    readonly code: "NOT_FOUND" | "CONFLICT" | "PRECONDITION_FAILED" | "BAD_REQUEST",
    message: string,
  ) {
    super(message);
  }
}
