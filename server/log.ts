import pino, { type DestinationStream } from "pino";
import pretty from "pino-pretty";

/**
 * Where log lines go: readable lines on a terminal, one JSON object per line otherwise
 * (piped, collected, shipped). LOG_FORMAT=json|pretty overrides the guess.
 */
function destination(): DestinationStream | undefined {
  const format = process.env.LOG_FORMAT ?? (process.stdout.isTTY ? "pretty" : "json");
  if (format !== "pretty") return undefined;
  // In-process and synchronous (no transport worker): lines keep their order with the rest of the output.
  return pretty({
    colorize: true,
    sync: true,
    singleLine: true,
    translateTime: "HH:MM:ss",
    ignore: "pid,hostname,service,component,loop",
    messageFormat: "{if component}{component} {end}{if loop}{loop} {end}{msg}",
  });
}

/** Structured logs; one child logger per component (`log.child({ component })`). */
export const log = pino(
  {
    level: process.env.LOG_LEVEL ?? "info",
    base: { service: "vmatrix" },
    redact: ["*.password", "*.privateKey", "*.token", "*.secret"],
  },
  destination(),
);
