import type { PlacementDecision, PlacementNumbers } from "./scheduler";

/**
 * The placement an operation recorded (Operation.decision.placement: server/jobs/plan.ts),
 * read back from its JSON for the operation and VM pages and the CLI. Operations recorded
 * before placement by demand have a summary but no numbers. Pure.
 */
export interface RecordedPlacement {
  summary: string;
  chosen: { name: string; hostingNetwork: string | null } | null;
  numbers: PlacementNumbers | null;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null;

export function recordedPlacement(decision: unknown): RecordedPlacement | null {
  const p = isObject(decision) ? decision.placement : null;
  if (!isObject(p) || typeof p.summary !== "string") return null;
  const chosen = isObject(p.chosen) && typeof p.chosen.name === "string" ? p.chosen : null;
  const numbers = p.numbers as PlacementDecision["numbers"];
  return {
    summary: p.summary,
    chosen: chosen && {
      name: chosen.name as string,
      hostingNetwork: typeof chosen.hostingNetwork === "string" ? chosen.hostingNetwork : null,
    },
    numbers: isObject(numbers) && isObject(numbers.chosen) ? numbers : null,
  };
}

/** The numbers for scripts (`operations list --json`): flat, with the runner-up and why it lost. */
export function placementJson(p: RecordedPlacement) {
  const n = p.numbers;
  return {
    host: p.chosen?.name ?? null,
    hostingNetwork: p.chosen?.hostingNetwork ?? null,
    rule: n?.rule ?? null,
    demandWeightedRttMs: n?.demand ? { before: n.demand.beforeMs, after: n.demand.afterMs } : null,
    demandCells: n?.demand?.cells ?? null,
    demandWindowMinutes: n?.demand?.windowMinutes ?? null,
    bytes: n?.chosen.bytes ?? null,
    transferSeconds: n?.chosen.transferSeconds ?? null,
    from: n?.chosen.from ?? null,
    runnerUp: n?.runnerUp
      ? {
          host: n.runnerUp.name,
          hostingNetwork: n.runnerUp.hostingNetwork,
          demandWeightedRttMs: n.runnerUp.measures.demandRttMs,
          transferSeconds: n.runnerUp.measures.transferSeconds,
          lostOn: n.runnerUp.lostOn,
          why: n.runnerUp.why,
        }
      : null,
    summary: p.summary,
  };
}
