import { ALERT_KIND } from "../../server/alerts";
import type { Db } from "../../server/db/client";
import { firstLine, type RestartEvent } from "./supervisor";

/**
 * The supervisor's restarts as alerts: open while a part is down (an operator sees a part
 * that keeps dying), resolved when it runs again. Written in order, and retried while the
 * database cannot take them (it may be the part that died): nothing is lost, and an
 * alert for a database restart is written once the database is back.
 */
export function restartAlerts(db: Db, opts: { retryMs?: number; log: (line: string) => void }) {
  const open = new Map<string, string>();
  let queue: Promise<void> = Promise.resolve();
  let stopped = false;

  function enqueue(write: () => Promise<void>) {
    queue = queue.then(async () => {
      for (let tries = 0; !stopped; tries++) {
        try {
          await write();
          return;
        } catch (err) {
          if (tries === 0) opts.log(`Restart alert not written yet (retrying): ${firstLine(err)}`);
          await new Promise((r) => setTimeout(r, opts.retryMs ?? 2000));
        }
      }
    });
  }

  const message = (e: RestartEvent) =>
    `The ${e.part} ${e.reason} and is being restarted${e.inRow > 1 ? ` (${e.inRow} deaths in a row)` : ""}.`;

  return {
    death(e: RestartEvent) {
      enqueue(async () => {
        if (open.has(e.part)) return;
        const alert = await db.alert.create({
          data: { kind: ALERT_KIND.processRestarted, severity: "WARNING", message: message(e), createdAt: e.at },
        });
        open.set(e.part, alert.id);
      });
    },
    restarted(e: RestartEvent & { upAt: Date }) {
      enqueue(async () => {
        const id = open.get(e.part);
        if (id) await db.alert.update({ where: { id }, data: { resolvedAt: e.upAt } });
        else
          await db.alert.create({
            data: {
              kind: ALERT_KIND.processRestarted,
              severity: "WARNING",
              message: message(e),
              createdAt: e.at,
              resolvedAt: e.upAt,
            },
          });
        open.delete(e.part);
      });
    },
    /** Waits for what is written (tests, shutdown), at most `ms`. */
    async flush(ms = 5000) {
      await Promise.race([queue, new Promise((r) => setTimeout(r, ms))]);
    },
    stop() {
      stopped = true;
    },
  };
}
