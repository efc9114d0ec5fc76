import { afterAll, beforeAll } from "vitest";
import { startOpsLab, type OpsLab } from "./ops-lab";
import { startOperationsWorker } from "../server/jobs/worker";

export type OperationsWorker = Awaited<ReturnType<typeof startOperationsWorker>>;

/**
 * The usual frame of an operations test file: a sim ops lab with an operations worker
 * running its queue (as an oracle would), started before the file's tests and stopped
 * after them. `ready` receives both once they run.
 */
export function withOpsLabAndWorker(
  ready: (lab: OpsLab, worker: OperationsWorker) => void,
  opts: { pollIntervalMs?: number } = {},
): void {
  let lab: OpsLab | undefined;
  let worker: OperationsWorker | undefined;
  beforeAll(async () => {
    lab = await startOpsLab();
    worker = await startOperationsWorker(lab.db, lab.driver, {
      connectionString: lab.url,
      concurrency: 2,
      ...(opts.pollIntervalMs ? { pollIntervalMs: opts.pollIntervalMs } : {}),
    });
    ready(lab, worker);
  });
  afterAll(async () => {
    await worker?.stop();
    await lab?.stop();
  });
}
