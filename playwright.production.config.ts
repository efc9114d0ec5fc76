import { productConfig } from "./e2e/product-config";

// The product in production mode (docs/security.md, "Modes"): no lab, no demo accounts, a
// first administrator from the environment. The browser reaches it on http://localhost,
// which browsers treat as secure, so its https-only cookies still work.
export const FIRST_ADMIN = { email: "first-admin@vmatrix.example", password: "first-admin-password-1" };

export default productConfig({
  testDir: "e2e/production",
  port: Number(process.env.E2E_PRODUCTION_PORT ?? 3300),
  dataDir: ".data/e2e-production",
  testTimeoutMs: 60_000,
  startTimeoutMs: 400_000,
  env: {
    VMATRIX_MODE: "production",
    APP_URL: `https://localhost:${process.env.E2E_PRODUCTION_PORT ?? 3300}`,
    HOSTNAME: "127.0.0.1",
    VMATRIX_ADMIN_EMAIL: FIRST_ADMIN.email,
    VMATRIX_ADMIN_PASSWORD: FIRST_ADMIN.password,
    EMBEDDED_PG_PORT: process.env.E2E_PRODUCTION_PG_PORT ?? "54369",
    DNS_PORT: process.env.E2E_PRODUCTION_DNS_PORT ?? "5356",
  },
});
