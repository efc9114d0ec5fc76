import { autoscalerLoop } from "./autoscaler";
import { cleanupLoop } from "./cleanup";
import type { Config } from "../config";
import { demandLoop } from "./demand-sim";
import { dnsDemandSimLoop } from "./dns-demand-sim";
import { edgeDemandLoop } from "./edge-demand";
import { networkLoop } from "./network";
import { metricsLoop } from "./metrics";
import { matchLoop } from "./matches";
import { reconcileLoop } from "./reconcile";
import { recoveryLoop } from "./recovery";
import { vmRestartLoop } from "./vm-restart";
import type { OracleLoop } from "./frame";
import { metricRetentionMs } from "../metrics/retention";
import { poolLoop } from "./pools";
import { retentionLoop } from "./retention";

/**
 * The control loops `npm start`'s oracle runs beside its presence and heartbeat. Each lives in the
 * module of what it does; this list is the one place that turns them on.
 */
export function productLoops(cfg: Config): OracleLoop[] {
  return [
    reconcileLoop(),
    recoveryLoop(),
    cleanupLoop(),
    vmRestartLoop(),
    matchLoop(),
    networkLoop(),
    edgeDemandLoop(),
    autoscalerLoop(),
    poolLoop(),
    metricsLoop(cfg.METRICS_INTERVAL_MS, metricRetentionMs(cfg)),
    retentionLoop({
      demandDays: cfg.RETENTION_DEMAND_DAYS,
      operationsDays: cfg.RETENTION_OPERATIONS_DAYS,
      alertsDays: cfg.RETENTION_ALERTS_DAYS,
    }),
    ...(cfg.SIM_DEMAND === "on"
      ? [
          demandLoop(),
          dnsDemandSimLoop({ host: cfg.DNS_HOST === "0.0.0.0" ? "127.0.0.1" : cfg.DNS_HOST, port: cfg.DNS_PORT }),
        ]
      : []),
  ];
}
