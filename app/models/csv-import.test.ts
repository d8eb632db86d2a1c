import { describe, expect, it } from "vitest";
import { MAX_CSV_ROWS, parseStudentsCsv, parseTopicsCsv } from "./csv-import";

describe("parseTopicsCsv", () => {
  it("reads a clean file with optional columns in any order, quoted commas and a line-spanning field", () => {
    const file = [
      "Capacity,Title,Supervisor,Description",
      '2,"Graphs, flows and cuts",Dr Ford,"Max-flow',
      'min-cut"',
      "1,Compilers,,",
    ].join("\n");
    expect(parseTopicsCsv(file)).toEqual({
      rows: [
        { line: 2, value: { title: "Graphs, flows and cuts", capacity: 2, supervisor: "Dr Ford", description: "Max-flow\nmin-cut" } },
        { line: 4, value: { title: "Compilers", capacity: 1, supervisor: "", description: "" } },
      ],
      errors: [],
    });
  });

  it("accepts semicolons, CRLF line ends, a byte-order mark and blank lines", () => {
    const file = "\uFEFFtitle;capacity\r\nA;2\r\n\r\nB;3\r\n";
    expect(parseTopicsCsv(file).rows).toEqual([
      { line: 2, value: { title: "A", capacity: 2, supervisor: "", description: "" } },
      { line: 4, value: { title: "B", capacity: 3, supervisor: "", description: "" } },
    ]);
  });

  it("reports every broken line with its line number, column and message", () => {
    const file = [
      "title,capacity,supervisor",
      "Good,2,X",
      ",2,Y",
      "Zero,0,Z",
      "Half,1.5,Z",
      "Good,1,W",
      "Short,3",
      "Taken,1,V",
      'Open quote,1,"never closed',
    ].join("\n");
    expect(parseTopicsCsv(file, ["TAKEN"]).errors).toEqual([
      { line: 3, column: "title", message: "The title is empty." },
      { line: 4, column: "capacity", message: "The capacity must be at least 1." },
      { line: 5, column: "capacity", message: "The capacity must be a whole number." },
      { line: 6, column: "title", message: "The same title is on line 2." },
      { line: 7, column: "", message: "Expected 3 fields, found 2." },
      { line: 8, column: "title", message: "The period already has a topic with this title." },
      { line: 9, column: "", message: 'A quoted field is never closed (missing ").' },
    ]);
  });

  it("reports a wrong header once instead of an error on every row", () => {
    expect(parseTopicsCsv("title,capcity\nA,1\nB,2\n").errors).toEqual([
      { line: 1, column: "capcity", message: 'Unknown column "capcity"; expected title, capacity, supervisor, description.' },
      { line: 1, column: "capacity", message: 'The header has no "capacity" column.' },
    ]);
  });

  it("refuses empty files, header-only files and files over the row limit", () => {
    expect(parseTopicsCsv("").errors).toEqual([{ line: 1, column: "", message: "The file is empty." }]);
    expect(parseTopicsCsv("title,capacity\n").errors).toEqual([
      { line: 2, column: "", message: "The file has a header but no rows." },
    ]);
    const big = ["title,capacity", ...Array.from({ length: MAX_CSV_ROWS + 2 }, (_, index) => `T${index},1`)].join("\n");
    expect(parseTopicsCsv(big).errors).toEqual([
      { line: MAX_CSV_ROWS + 2, column: "", message: `A file may hold at most ${MAX_CSV_ROWS} rows.` },
    ]);
  });
});

describe("parseStudentsCsv", () => {
  it("lower-cases emails and refuses invalid and repeated ones", () => {
    const result = parseStudentsCsv("email,name\nAda@Uni.example,Ada\nnot-an-email,Bob\nada@uni.example,Ada again\nc@uni.example,\n");
    expect(result).toEqual({
      rows: [{ line: 2, value: { email: "ada@uni.example", name: "Ada" } }],
      errors: [
        { line: 3, column: "email", message: "This is not a valid email address." },
        { line: 4, column: "email", message: "The same email is on line 2." },
        { line: 5, column: "name", message: "The name is empty." },
      ],
    });
  });
});
