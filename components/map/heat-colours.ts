/** Heat layer colours, blue (little demand) to red (the day's hottest cell): the layer and the legend share them. */
export const HEAT_GRADIENT: Record<number, string> = {
  0.2: "#3b82f6",
  0.45: "#06b6d4",
  0.65: "#84cc16",
  0.82: "#facc15",
  1: "#dc2626",
};
