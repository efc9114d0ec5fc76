import type { Db } from "../server/db/client";
import type { Edges } from "../server/edge/registry";
import type { HostDriver } from "../server/hosts/driver";
import { startCallsWorker } from "../server/calls/worker";
import { runLoop } from "../server/loops/frame";
import { presenceLoop } from "../server/loops/presence";
import { log } from "../server/log";

/**
 * What a test needs of an oracle to answer the web app's calls (server/calls/): its calls
 * worker on the test's database and its presence row (without which a call is refused at
 * once, "no oracle is running"). Stopping it leaves the presence row to age out.
 */
export async function startCallsOracle(lab: { db: Db; url: string; driver: HostDriver; edges?: () => Edges | null }) {
  const worker = await startCallsWorker(
    { db: lab.db, driver: lab.driver, edges: lab.edges ?? (() => null) },
    { concurrency: 2, connectionString: lab.url },
  );
  const presence = runLoop(presenceLoop(), {
    db: lab.db,
    driver: lab.driver,
    scope: () => Promise.resolve(undefined),
    logger: log.child({ component: "test-oracle" }),
  });
  return {
    async stop() {
      await presence.stop();
      await worker.stop();
    },
  };
}
