/**
 * Test fixture: an oracle process that runs operations and kills itself (SIGKILL, no
 * cleanup of any kind) right after the step named by CRASH_AFTER_STEP is recorded DONE.
 * Used by test/operations-crash.ts (the operations-crash integration tests) to check that another oracle resumes the work.
 * It loads, says "loaded", and takes jobs only after a line on stdin, so the test can
 * start it while the previous operation is still finishing.
 */
import { once } from "node:events";
import { z } from "zod";
import { createDb } from "../server/db/client";
import { SshHostDriver } from "../server/hosts/driver";
import { startOperationsWorker } from "../server/jobs/worker";

const url = process.env.DATABASE_URL;
const crashAfter = process.env.CRASH_AFTER_STEP;
if (!url || !crashAfter) throw new Error("DATABASE_URL and CRASH_AFTER_STEP are required");
// The test's lab's SSH timeouts (a libvirt lab's saves take longer than the sim's).
const timeouts = z
  .object({ connectTimeoutMs: z.number().int().positive(), commandTimeoutMs: z.number().int().positive() })
  .parse(JSON.parse(process.env.OPS_LAB_DRIVER ?? '{"connectTimeoutMs":2000,"commandTimeoutMs":10000}'));

process.stdout.write("loaded\n");
await once(process.stdin, "data");
const db = createDb(url, 2);
await startOperationsWorker(db, new SshHostDriver(timeouts), {
  connectionString: url,
  concurrency: 1,
  hooks: {
    afterStep: (_operationId, step) => {
      if (step === crashAfter) process.kill(process.pid, "SIGKILL");
    },
  },
  pollIntervalMs: 100,
});
process.stdout.write("ready\n");
