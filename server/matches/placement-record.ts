/**
 * The decision stored with a booking (Match.placement): what the admin saw and chose,
 * and on what RTTs — the latency model, or pings measured from the hosts (which values
 * were measured, which were modelled and why). Written by book.ts; read back (and
 * checked, since it is JSON) for the bookings list.
 */
import { z } from "zod";
import { OBJECTIVES } from "../placement/types";

const cell = z.union([
  z.object({ player: z.string(), rttMs: z.number(), source: z.literal("measured") }),
  z.object({ player: z.string(), rttMs: z.number(), source: z.literal("model"), why: z.string() }),
]);
export type PlayerRtt = z.infer<typeof cell>;

const summary = z.object({
  hostId: z.string(),
  hostName: z.string(),
  city: z.string(),
  closeness: z.number(),
  maxRtt: z.number(),
  spread: z.number(),
  clanDifference: z.number().nullable(),
  rttMs: z.array(z.number()),
});
export type CandidateSummary = z.infer<typeof summary>;

export const placementRecord = z.object({
  /** Where the booked host's RTTs came from: all modelled, all measured, or some of each. */
  rttSource: z.enum(["model", "measured", "mixed"]),
  objective: z.enum(OBJECTIVES),
  maxRttMs: z.number(),
  players: z.array(z.string()),
  chosen: summary,
  runnersUp: z.array(summary),
  eligibleCount: z.number(),
  excludedCount: z.number(),
  /** Present when the admin had measured pings before booking. */
  pings: z
    .object({
      measuredAt: z.string(),
      /** The hosts pinged (the model's top candidates at the time). */
      hosts: z.array(z.object({ hostId: z.string(), hostName: z.string() })),
      /** The booked host's RTT per player with its source; null when it was not among the pinged hosts. */
      chosen: z.array(cell).nullable(),
    })
    .nullable()
    .default(null),
});
export type PlacementRecord = z.infer<typeof placementRecord>;

/** The booked host's source summary from its cells (null cells: not measured). */
export function rttSource(cells: readonly PlayerRtt[] | null): PlacementRecord["rttSource"] {
  if (!cells) return "model";
  const measured = cells.filter((c) => c.source === "measured").length;
  return measured === 0 ? "model" : measured === cells.length ? "measured" : "mixed";
}

/** A stored record, or null for one this version cannot read (older bookings, hand edits). */
export function readPlacementRecord(json: unknown): PlacementRecord | null {
  const parsed = placementRecord.safeParse(json);
  return parsed.success ? parsed.data : null;
}
