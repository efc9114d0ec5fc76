/** What the admin may ask the engine to minimise (thesis: closeness). */
export const OBJECTIVES = ["closeness", "maxRtt", "spread", "clanDifference"] as const;
export type Objective = (typeof OBJECTIVES)[number];

/** Thesis §6.2.1: the highest ping FPS players reasonably tolerate. */
export const DEFAULT_MAX_RTT_MS = 180;

/** A host that could run the match, with the facts that rule it out regardless of RTT. */
export type ServerCandidate = {
  id: string;
  /** Already booked in the requested time slot. */
  busy?: boolean;
  down?: boolean;
  untrusted?: boolean;
  /** The game's VM image cannot be reached from this host. */
  missingImage?: boolean;
};

export type MatchPlayer = { id: string; team?: string };

/** RTTs in ms, row-major: `rtt[s * players.length + p]` (servers × players). */
export type RttMatrix = Float64Array | Float32Array;

export type PlacementRequest = {
  servers: readonly ServerCandidate[];
  players: readonly MatchPlayer[];
  rttMs: RttMatrix;
  /** Servers with any RTT strictly above this are dropped. Default 180. */
  maxRttMs?: number;
  objective?: Objective;
  /** Return only the best `limit` candidates (lets the engine skip hopeless servers). */
  limit?: number;
};

export type CandidateScore = {
  id: string;
  /** C_s: mean over unordered player pairs of |RTT(s,p) − RTT(s,i)|, in ms. */
  closeness: number;
  maxRtt: number;
  /** max − min RTT over the players. */
  spread: number;
  /** |mean RTT of clan A − mean RTT of clan B|; null unless every player is in one of two teams. */
  clanDifference: number | null;
};

export type Exclusion = { id: string; reason: string };

export type PlacementResult = {
  /** The best candidate's id, null when no server is eligible. */
  chosen: string | null;
  objective: Objective;
  /** Eligible servers, best first. */
  candidates: CandidateScore[];
  excluded: Exclusion[];
};

/** The request itself is wrong (shape, values, ids); the message names the problem. */
export class PlacementInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PlacementInputError";
  }
}
