import { tmpdir } from "node:os";
import path from "node:path";
import { defineConfig } from "vitest/config";

const alias = { "@": path.resolve(import.meta.dirname) };
const exclude = ["node_modules/**", ".next/**", ".data/**", "e2e/**"];
/** Integration tests on the libvirt lab's real hosts: a project of their own, one file at a time. */
const LIBVIRT = ["**/*.libvirt.int.test.ts", "lab/contract/*libvirt.int.test.ts", "lab/libvirt/**/*.int.test.ts"];
const integration = {
  globalSetup: ["./test/global-setup.ts"],
  // Key references must lie in a key folder (SSH_KEY_DIR): the tests' sim labs keep their
  // keys in temporary folders, the libvirt lab under .data (or VMATRIX_LIBVIRT_LAB_DIR).
  env: {
    SSH_KEY_DIR: [tmpdir(), path.resolve(".data"), process.env.VMATRIX_LIBVIRT_LAB_DIR]
      .filter((d): d is string => !!d)
      .map((d) => path.resolve(d))
      .join(path.delimiter),
  },
  testTimeout: 60_000,
  hookTimeout: 120_000,
  pool: "forks" as const,
};

// Two projects: unit tests (*.test.ts, pure, no services) and integration tests
// (*.int.test.ts) that get a real PostgreSQL from test/global-setup.ts.
export default defineConfig({
  resolve: { alias },
  test: {
    projects: [
      {
        resolve: { alias },
        // CPU-bound fits and engines take a few seconds on a busy 2-core machine: a roomier
        // limit than vitest's 5 s, which is not a speed target (benchmarks measure speed).
        test: {
          name: "unit",
          include: ["**/*.test.ts"],
          exclude: [...exclude, "**/*.int.test.ts"],
          testTimeout: 30_000,
        },
      },
      {
        resolve: { alias },
        test: {
          name: "integration",
          include: ["**/*.int.test.ts"],
          exclude: [...exclude, ...LIBVIRT],
          ...integration,
          // Most of these tests wait on SSH, PostgreSQL and timers, not the CPU: two files at
          // a time on a 2-core machine nearly halve the step. Each file has its own database.
          maxWorkers: 2,
        },
      },
      {
        resolve: { alias },
        test: {
          // The libvirt suites share the lab's hosts and take turns through its test lease
          // (test/libvirt-suite.ts): one file at a time. `npm test` runs this project beside
          // the other (scripts/test.ts), so no worker of that one waits for the lease.
          name: "integration-libvirt",
          include: LIBVIRT,
          exclude,
          ...integration,
          maxWorkers: 1,
        },
      },
    ],
  },
});
