import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "./config";

describe("configuration from the environment", () => {
  it("has working defaults for the embedded setup", () => {
    const cfg = parseConfig({});
    expect(cfg).toMatchObject({ PORT: 3000, EMBEDDED_PG_PORT: 54329, VMATRIX_DATA_DIR: ".data" });
    expect(cfg.DATABASE_URL).toBeUndefined();
  });

  it("names every bad variable and the reason, all at once", () => {
    let message = "";
    try {
      parseConfig({ PORT: "70000", DATABASE_URL: "mysql://x", LOG_LEVEL: "loud" });
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      message = (e as Error).message;
    }
    expect(message).toMatch(/PORT: .*65535/);
    expect(message).toMatch(/DATABASE_URL: must be a postgres/);
    expect(message).toMatch(/LOG_LEVEL/);
  });

  it("treats empty variables as unset", () => {
    expect(parseConfig({ DATABASE_URL: "", PORT: "" }).PORT).toBe(3000);
  });
});
