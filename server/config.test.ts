import { describe, expect, it } from "vitest";
import path from "node:path";
import { ConfigError, keyRefPolicy, parseConfig } from "./config";

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

  it("demo mode by default, listening on this machine only", () => {
    const cfg = parseConfig({});
    expect(cfg.VMATRIX_MODE).toBe("demo");
    expect(cfg.HOSTNAME).toBe("127.0.0.1");
    expect(parseConfig({ HOSTNAME: "0.0.0.0" }).HOSTNAME).toBe("0.0.0.0");
    // A container exports HOSTNAME as its own name: that is not a bind address.
    expect(parseConfig({ HOSTNAME: "c0ffee12ab34" }, "c0ffee12ab34").HOSTNAME).toBe("127.0.0.1");
    expect(parseConfig({ HOSTNAME: "10.1.2.3" }, "c0ffee12ab34").HOSTNAME).toBe("10.1.2.3");
  });

  it("production mode needs an https APP_URL and an explicit HOSTNAME, each refused in one line", () => {
    expect(() => parseConfig({ VMATRIX_MODE: "production" })).toThrow(/APP_URL: must be the https:\/\/ address/);
    expect(() => parseConfig({ VMATRIX_MODE: "production" })).toThrow(/HOSTNAME: must be set in production mode/);
    expect(() =>
      parseConfig({ VMATRIX_MODE: "production", APP_URL: "http://vm.example.com", HOSTNAME: "0.0.0.0" }),
    ).toThrow(/APP_URL: must be the https/);
    const cfg = parseConfig({ VMATRIX_MODE: "production", APP_URL: "https://vm.example.com", HOSTNAME: "10.0.0.2" });
    expect(cfg).toMatchObject({ VMATRIX_MODE: "production", HOSTNAME: "10.0.0.2" });
    expect(() => parseConfig({ VMATRIX_MODE: "prod" })).toThrow(/VMATRIX_MODE: must be demo or production/);
  });

  it("confines key references: the labs' .data in demo mode, the data folder's keys in production", () => {
    expect(keyRefPolicy(parseConfig({}))).toEqual({ keyDirs: [path.resolve(".data")], envPrefix: "VMATRIX_SSH_KEY_" });
    const production = { VMATRIX_MODE: "production", APP_URL: "https://vm.example.com", HOSTNAME: "127.0.0.1" };
    expect(keyRefPolicy(parseConfig({ ...production, VMATRIX_DATA_DIR: "/var/lib/vmatrix" })).keyDirs).toEqual([
      "/var/lib/vmatrix/keys",
    ]);
    expect(
      keyRefPolicy(
        parseConfig({ ...production, SSH_KEY_DIR: "/etc/vmatrix/keys:/run/secrets", SSH_KEY_ENV_PREFIX: "K_" }),
      ),
    ).toEqual({ keyDirs: ["/etc/vmatrix/keys", "/run/secrets"], envPrefix: "K_" });
    expect(() => parseConfig({ SSH_KEY_DIR: "/etc/keys::/x" })).toThrow(/SSH_KEY_DIR: must be a folder, or folders/);
    expect(() => parseConfig({ SSH_KEY_ENV_PREFIX: "ssh-" })).toThrow(
      /SSH_KEY_ENV_PREFIX: must be the start of a variable/,
    );
  });

  it("checks trusted proxies and the first administrator's credentials", () => {
    expect(parseConfig({ TRUSTED_PROXIES: "10.0.0.5, 192.168.0.0/16,::1" }).TRUSTED_PROXIES).toBeDefined();
    expect(() => parseConfig({ TRUSTED_PROXIES: "10.0.0.5,proxy.local" })).toThrow(
      /TRUSTED_PROXIES: "proxy.local" is not an address or CIDR range/,
    );
    expect(() => parseConfig({ TRUSTED_PROXIES: "10.0.0.0/33" })).toThrow(/TRUSTED_PROXIES: "10.0.0.0\/33"/);
    expect(() => parseConfig({ VMATRIX_ADMIN_EMAIL: "root" })).toThrow(/VMATRIX_ADMIN_EMAIL: must be an email/);
    expect(() => parseConfig({ VMATRIX_ADMIN_PASSWORD: "short" })).toThrow(
      /VMATRIX_ADMIN_PASSWORD: must be at least 12/,
    );
  });
});
