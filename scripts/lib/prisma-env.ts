import { createRequire } from "node:module";

/**
 * Prisma 6 tries to download native engines unless these point at an existing file; with
 * the JS engine they are never executed, so any file will do (see shared toolchain notes).
 */
export function prismaEnv(): Record<string, string> {
  const anyFile = createRequire(import.meta.url).resolve("prisma/package.json");
  return {
    PRISMA_QUERY_ENGINE_LIBRARY: anyFile,
    PRISMA_SCHEMA_ENGINE_BINARY: anyFile,
    PRISMA_HIDE_UPDATE_MESSAGE: "1",
    CHECKPOINT_DISABLE: "1",
  };
}
