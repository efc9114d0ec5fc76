import nextVitals from "eslint-config-next/core-web-vitals";
import nextTs from "eslint-config-next/typescript";

/** Modules that reach the outside world; decisions never import them. */
const IO_MODULES = [
  "fs",
  "node:fs",
  "fs/promises",
  "node:fs/promises",
  "net",
  "node:net",
  "dgram",
  "node:dgram",
  "child_process",
  "node:child_process",
  "ssh2",
  "pg",
  "graphile-worker",
  "@prisma/client",
  "@prisma/adapter-pg",
];
const ORACLE =
  "server/oracle/ holds pure decisions over plain values: read state in a loop (server/loops/) or a domain module and pass it in.";
const DRIVER =
  "A driver (server/hosts/, server/edge/driver/) knows only SSH, the hypervisor and the edge: no database, decisions, operations or loops.";

const config = [
  ...nextVitals,
  ...nextTs,
  {
    ignores: [
      "node_modules/**",
      ".next/**",
      ".data/**",
      "server/db/generated/**",
      "next-env.d.ts",
      "test-results/**",
      "playwright-report/**",
    ],
  },
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
    },
  },
  // The floor plan's doors (docs/architecture.md); dependency-cruiser checks the same and folder cycles.
  {
    files: ["server/oracle/**/*.ts"],
    ignores: ["**/*.test.ts"],
    rules: {
      "@typescript-eslint/no-restricted-imports": [
        "error",
        {
          paths: IO_MODULES.map((name) => ({ name, message: ORACLE })),
          patterns: [
            {
              group: [
                "**/db/*",
                "**/hosts/*",
                "**/jobs/*",
                "**/loops/*",
                "**/edge/*",
                "**/registry/*",
                "**/api/*",
                "**/replicas/*",
                "**/components/*",
                "@/components/*",
                "@/app/*",
              ],
              message: ORACLE,
            },
          ],
        },
      ],
    },
  },
  {
    files: ["server/hosts/**/*.ts"],
    ignores: ["**/*.test.ts"],
    rules: {
      "@typescript-eslint/no-restricted-imports": [
        "error",
        { patterns: [{ regex: "^\\.\\./(?!log$)|^@/", message: DRIVER }] },
      ],
    },
  },
  {
    files: ["server/edge/driver/**/*.ts"],
    ignores: ["**/*.test.ts"],
    rules: {
      "@typescript-eslint/no-restricted-imports": [
        "error",
        { patterns: [{ regex: "^\\.\\./(?!\\.\\./)|^\\.\\./\\.\\./(?!hosts/|log$)|^@/", message: DRIVER }] },
      ],
    },
  },
];

export default config;
