/** The parameters of the geographic RTT model (model.ts explains its form; constants.ts holds the fitted values). */
export type ModelParams = {
  /** Distances below this are treated as this (same-city pairs are last-mile bound). */
  minDistanceKm: number;
  /** Hinge positions of the distance curve, in km, ascending. */
  knotsKm: readonly number[];
  /** [intercept, slope, one slope change per knot], in ln(ms) over ln(km). */
  curve: readonly number[];
  anchorCount: number;
  sigmaKm: number;
  /** Bumps are cut off beyond this many sigmas (keeps the fit sparse). */
  cutoffSigmas: number;
  /** Non-zero anchor offsets as [anchor index, ln-offset]. */
  anchorOffsets: readonly (readonly [number, number])[];
};
