import type { log } from "./log";

/**
 * A long-running process's last words: an unhandled rejection is logged with its stack
 * and the process goes on (one failed promise is not worth every running operation); an
 * uncaught exception is logged and ends the process, whose supervisor starts it again.
 */
export function logCrashes(logger: typeof log) {
  process.on("unhandledRejection", (err) => logger.error({ err }, "unhandled rejection"));
  process.on("uncaughtException", (err, origin) => {
    logger.fatal({ err, origin }, "uncaught exception: exiting, to be restarted");
    process.exit(1);
  });
}
