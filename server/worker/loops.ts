import { autoscalerLoop } from "../autoscaler/loop";
import type { Config } from "../config";
import { demandLoop } from "../demand/loop";
import { networkLoop } from "../edge/loop";
import { metricsLoop } from "../metrics/loop";
import { matchLoop } from "../oracle/match-loop";
import { reconcileLoop } from "../oracle/reconcile-loop";
import { recoveryLoop } from "../oracle/recovery";
import type { OracleLoop } from "./loop";

/**
 * The control loops `npm start`'s oracle runs beside the heartbeat. Each lives in the
 * module of what it does; this list is the one place that turns them on.
 */
export function productLoops(cfg: Config): OracleLoop[] {
  return [reconcileLoop(), recoveryLoop(), matchLoop(), networkLoop(), autoscalerLoop(), metricsLoop(cfg.METRICS_INTERVAL_MS), ...(cfg.SIM_DEMAND === "on" ? [demandLoop()] : [])];
}
