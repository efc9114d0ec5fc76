import { productConfig } from "./e2e/product-config";

// The product on the libvirt lab's real hosts (`npm start -- --lab libvirt`: real QEMU
// guests, real edges). Root on Linux only (scripts/test.ts says why when it cannot run).
export default productConfig({
  testDir: "e2e/libvirt",
  port: Number(process.env.E2E_LIBVIRT_PORT ?? 3200),
  dataDir: ".data/e2e-libvirt",
  startArgs: ["--lab", "libvirt"],
  testTimeoutMs: 300_000,
  startTimeoutMs: 600_000,
  env: {
    EMBEDDED_PG_PORT: process.env.E2E_LIBVIRT_PG_PORT ?? "54379",
    DNS_PORT: process.env.E2E_LIBVIRT_DNS_PORT ?? "5354",
  },
});
