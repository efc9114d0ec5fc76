/** Refusals of a booking request that the admin can act on (mapped to API errors by the router). */

export type FieldIssue = { path: (string | number)[]; message: string };

/** The request is wrong in a way only the server can tell (e.g. an IP GeoIP cannot place). */
export class BookingFieldError extends Error {
  override name = "BookingFieldError";
  constructor(readonly issues: FieldIssue[]) {
    super(issues.map((i) => i.message).join("; "));
  }
}

/** The chosen server cannot be booked any more; `nextBest` is what to offer instead. */
export class BookingConflictError extends Error {
  override name = "BookingConflictError";
  constructor(
    message: string,
    readonly nextBest: { hostId: string; hostName: string; city: string } | null,
  ) {
    super(message);
  }
}
