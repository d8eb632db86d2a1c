import { describe, expect, it } from "vitest";
import { parseSoc, SocParseError } from "~/models/preflib";
import { loadAgh } from "../support/factories";

describe("parseSoc", () => {
  it("reads the AGH 2003 file: 146 students ranking all 9 courses", () => {
    const soc = loadAgh();
    expect(soc.voters).toHaveLength(146);
    expect(soc.alternatives.map((alternative) => alternative.name)).toEqual(
      Array.from({ length: 9 }, (_, index) => `Course ${index + 1}`),
    );
    expect(soc.voters.every((order) => [...order].sort().join() === "1,2,3,4,5,6,7,8,9")).toBe(true);
    // First data line: `4: 9,2,5,6,7,8,4,3,1`.
    expect(soc.voters.slice(0, 4)).toEqual(Array(4).fill([9, 2, 5, 6, 7, 8, 4, 3, 1]));
    expect(soc.voters[4]).not.toEqual([9, 2, 5, 6, 7, 8, 4, 3, 1]);
    expect(soc.metadata["NUMBER UNIQUE ORDERS"]).toBe("123");
  });

  it("rejects malformed lines with their line number", () => {
    expect(() => parseSoc("# NUMBER ALTERNATIVES: 2\n1: 1,2\nnonsense\n")).toThrow(
      new SocParseError(3, 'expected "COUNT: a,b,c", got "nonsense"'),
    );
    expect(() => parseSoc("# NUMBER ALTERNATIVES: 2\n1: 1,1\n")).toThrow(/line 2: an alternative appears twice/);
    expect(() => parseSoc("# NUMBER ALTERNATIVES: 2\n1: 1,3\n")).toThrow(/alternative 3 is not declared/);
    expect(() => parseSoc("# NUMBER ALTERNATIVES: 2\n# NUMBER VOTERS: 5\n2: 1,2\n")).toThrow(
      /NUMBER VOTERS says 5 but the file lists 2/,
    );
  });
});
