import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { compileWat, WASM_KERNELS, wasmModuleSource } from "./lib/wasm-build";

describe("WebAssembly kernels", () => {
  for (const k of WASM_KERNELS) {
    it(`${k.ts} holds the bytes of ${k.wat} (run npm run build:wasm after editing it)`, async () => {
      const bytes = await compileWat(path.basename(k.wat), readFileSync(k.wat, "utf8"));
      expect(readFileSync(k.ts, "utf8")).toBe(wasmModuleSource(path.basename(k.wat), k.constName, bytes));
    });
  }
});
