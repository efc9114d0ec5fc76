/**
 * `npm run build:wasm`: compiles each WebAssembly kernel's text (.wat) into a TypeScript
 * module holding its bytes (base64), so the app and the CLI load it without a compiler
 * or a file read. A unit test (scripts/build-wasm.test.ts) fails when they disagree.
 */
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { compileWat, WASM_KERNELS, wasmModuleSource } from "./lib/wasm-build";

for (const k of WASM_KERNELS) {
  const bytes = await compileWat(path.basename(k.wat), readFileSync(k.wat, "utf8"));
  writeFileSync(k.ts, wasmModuleSource(path.basename(k.wat), k.constName, bytes));
  console.log(`[build:wasm] ${k.ts}: ${bytes.length} bytes from ${k.wat}`);
}
