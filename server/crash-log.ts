import type { log } from "./log";

/**
 * A long-running process's last words: an unhandled rejection is logged with its stack
 * and the process goes on (one failed promise is not worth every running operation); an
 * uncaught exception is logged and ends the process, whose supervisor starts it again.
 */
export function logCrashes(logger: typeof log) {
  endWithSupervisor(() => {
    logger.warn("the supervisor is gone: stopping");
    process.exit(0);
  });
  process.on("unhandledRejection", (err) => logger.error({ err }, "unhandled rejection"));
  process.on("uncaughtException", (err, origin) => {
    logger.fatal({ err, origin }, "uncaught exception: exiting, to be restarted");
    process.exit(1);
  });
}

/**
 * A part started by a supervisor (npm start, the chaos soak) over an IPC channel ends when
 * that channel closes: the supervisor is gone without stopping it (killed, or its Ctrl-C cut
 * short), and an orphaned oracle, DNS server or web app would otherwise keep running, and
 * holding its ports, with nobody to stop it. The channel does not keep the process alive.
 */
export function endWithSupervisor(onEnd: () => void = () => process.exit(0)) {
  if (!process.channel) return;
  process.channel.unref();
  process.once("disconnect", onEnd);
}
