import { describe, expect, it } from "vitest";
import { isStaleTestDatabase, testDatabaseName } from "../setup/urls";

describe("test database names", () => {
  const now = 1_800_000_000;

  it("keeps a running suite's databases and drops those older than six hours", () => {
    expect(isStaleTestDatabase(`tm_test_${now - 60}_0a1b2c3d`, now)).toBe(false);
    expect(isStaleTestDatabase(`tm_tpl_${now - 5 * 3600}_0a1b2c3d`, now)).toBe(false);
    expect(isStaleTestDatabase(`tm_test_${now - 7 * 3600}_0a1b2c3d`, now)).toBe(true);
  });

  it("drops names from the old scheme and never touches other databases", () => {
    expect(isStaleTestDatabase("tm_template", now)).toBe(true);
    expect(isStaleTestDatabase("tm_test_0a1b2c3d4e", now)).toBe(true);
    expect(isStaleTestDatabase("topicmatch", now)).toBe(false);
    expect(isStaleTestDatabase("tm_other_thing", now)).toBe(false);
  });

  it("makes names that the staleness rule recognises", () => {
    const name = testDatabaseName("test");
    expect(name).toMatch(/^tm_test_\d+_[0-9a-f]{8}$/);
    expect(isStaleTestDatabase(name)).toBe(false);
    expect(isStaleTestDatabase(name, Date.now() / 1000 + 7 * 3600)).toBe(true);
  });
});
