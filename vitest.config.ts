import { tmpdir } from "node:os";
import path from "node:path";
import { defineConfig } from "vitest/config";

const alias = { "@": path.resolve(import.meta.dirname) };
const exclude = ["node_modules/**", ".next/**", ".data/**", "e2e/**"];

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
          exclude,
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
          pool: "forks",
          // Most of these tests wait on SSH, PostgreSQL and timers, not the CPU: two files at
          // a time on a 2-core machine nearly halve the step. Each file has its own database;
          // libvirt suites take turns through the lab's test lease (test/libvirt-suite.ts).
          maxWorkers: 2,
        },
      },
    ],
  },
});
