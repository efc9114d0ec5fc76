/**
 * Where demand is seen (DemandSample.source): the product's DNS server, its edges'
 * HAProxy, samples posted to /api/demand, and the sim lab's generator. Pure, for the map too.
 */
import type { DemandSource } from "../db/generated/enums";

/** Every source, in the order the map lists them. */
export const DEMAND_SOURCES = ["DNS", "EDGE", "INGEST", "SIM"] as const satisfies readonly DemandSource[];

/** The map's words for them. */
export const SOURCE_LABELS: Record<DemandSource, string> = {
  DNS: "DNS",
  EDGE: "Edge",
  INGEST: "Posted",
  SIM: "Sim",
};
