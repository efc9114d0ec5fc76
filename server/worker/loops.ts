import type { Config } from "../config";
import type { OracleLoop } from "./loop";

/**
 * The control loops `npm start`'s oracle runs beside the heartbeat. Each lives in the
 * module of what it does; this list is the one place that turns them on.
 */
export function productLoops(_cfg: Config): OracleLoop[] {
  return [];
}
