import { describe, expect, it } from "vitest";
import { EnvError, parseEnv } from "~/env.server";

describe("parseEnv", () => {
  it("fills working defaults for this machine", () => {
    const env = parseEnv({});
    expect(env.DATABASE_URL).toBe("postgres://root@127.0.0.1:5432/topicmatch");
    expect(env.REDIS_URL).toBe("redis://127.0.0.1:6379");
    expect(env.PORT).toBe(3000);
  });

  it.each([
    ["DATABASE_URL", "mysql://localhost/x", /^Invalid setting DATABASE_URL: must look like postgres:\/\/.* \(got "mysql:\/\/localhost\/x"\)$/],
    ["REDIS_URL", "localhost:6379", /^Invalid setting REDIS_URL: must look like redis:\/\/host:6379/],
    ["PORT", "eighty", /^Invalid setting PORT: /],
    ["PORT", "70000", /^Invalid setting PORT: /],
    ["SESSION_SECRET", "short", /^Invalid setting SESSION_SECRET: must be at least 16 characters/],
    ["ALLOWED_EMAIL_DOMAIN", "not a domain", /^Invalid setting ALLOWED_EMAIL_DOMAIN: must be a domain/],
  ])("names %s when it is %j", (setting, value, message) => {
    let caught: unknown;
    try {
      parseEnv({ [setting]: value });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(EnvError);
    expect((caught as EnvError).setting).toBe(setting);
    expect((caught as EnvError).message).toMatch(message);
    expect((caught as EnvError).message).not.toContain("\n");
  });

  it("refuses the development session secret in production", () => {
    expect(() => parseEnv({ NODE_ENV: "production" })).toThrow(/SESSION_SECRET: set a secret of your own/);
    expect(parseEnv({ NODE_ENV: "production", SESSION_SECRET: "a-real-secret-of-32-characters!!" }).NODE_ENV).toBe(
      "production",
    );
  });

  it("treats an empty value as unset", () => {
    expect(parseEnv({ PORT: "" }).PORT).toBe(3000);
  });
});
