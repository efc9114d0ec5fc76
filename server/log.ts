import pino from "pino";

/** Structured JSON logs; one child logger per component (`log.child({ component })`). */
export const log = pino({
  level: process.env.LOG_LEVEL ?? "info",
  base: { service: "vmatrix" },
  redact: ["*.password", "*.privateKey", "*.token", "*.secret"],
});
