import { describe, expect, test } from "vitest";
import {
  AggregateConfigError,
  AggregateDuplicateItemError,
  AggregateItemMissingError,
  DirectAggregate,
  TableAggregate,
  applyBatches,
} from "~/aggregate";
import { getDb, withTransaction } from "~/db.server";

describe("aggregate core", () => {
  test("counts, sums, ranks and selects across splits and merges", async () => {
    const db = getDb();
    const scores = new DirectAggregate({ name: "basicScores", channels: 2, maxNodeSize: 4 });
    const values = Array.from({ length: 200 }, (_, i) => (i * 37) % 200);
    await scores.applyBatch(
      db,
      values.map((value) => ({ op: "insert", namespace: "a", key: value, id: `s${value}`, sums: [value, value * value] })),
    );
    expect(await scores.count(db, { namespace: "a" })).toBe(200);
    expect(await scores.sum(db, { namespace: "a" })).toEqual([19900, values.reduce((acc, v) => acc + v * v, 0)]);
    expect(await scores.at(db, { namespace: "a", offset: 57 })).toEqual({ key: 57, id: "s57", sums: [57, 3249] });
    expect(await scores.at(db, { namespace: "a", offset: -1 })).toMatchObject({ key: 199 });
    expect(await scores.indexOf(db, { namespace: "a", key: 120 })).toBe(120);
    expect(await scores.indexOf(db, { namespace: "a", key: 120, order: "desc" })).toBe(79);
    expect(
      await scores.count(db, {
        namespace: "a",
        bounds: { lower: { key: 10, inclusive: true }, upper: { key: 20, inclusive: false } },
      }),
    ).toBe(10);
    expect((await scores.validate(db, "a")).problems).toEqual([]);

    await scores.applyBatch(
      db,
      values.filter((v) => v % 3 !== 0).map((value) => ({ op: "delete", namespace: "a", key: value, id: `s${value}` })),
    );
    expect(await scores.count(db, { namespace: "a" })).toBe(67);
    expect(await scores.at(db, { namespace: "a", offset: 1 })).toMatchObject({ key: 3 });
    const report = await scores.validate(db, "a");
    expect(report).toMatchObject({ ok: true, count: 67 });
  });

  test("strict writes refuse duplicates and missing items without applying anything", async () => {
    const db = getDb();
    const agg = new DirectAggregate({ name: "basicStrict" });
    await agg.insert(db, "n", { key: 1, id: "x" });
    await expect(
      agg.applyBatch(db, [
        { op: "insert", namespace: "n", key: 2, id: "y" },
        { op: "insert", namespace: "n", key: 1, id: "x" },
      ]),
    ).rejects.toBeInstanceOf(AggregateDuplicateItemError);
    await expect(agg.delete(db, "n", { key: 5, id: "x" })).rejects.toBeInstanceOf(AggregateItemMissingError);
    expect(await agg.count(db, { namespace: "n" })).toBe(1);
    expect(await agg.insertIfDoesNotExist(db, "n", { key: 1, id: "x" })).toBe(false);
    expect(await agg.deleteIfExists(db, "n", { key: 1, id: "x" })).toBe(true);
    expect(() => new DirectAggregate({ name: "bad", maxNodeSize: 5 })).toThrow(AggregateConfigError);
  });

  test("applyBatches maintains two aggregates in one transaction", async () => {
    const db = getDb();
    type Row = { student: string; topic: string; position: number };
    const byTopic = new TableAggregate<Row>({
      name: "basicByTopic",
      channels: 2,
      namespace: (r) => r.topic,
      key: (r) => r.position,
      id: (r) => r.student,
      sums: (r) => [r.position, r.position ** 2],
    });
    const byStudent = new TableAggregate<Row>({
      name: "basicByStudent",
      namespace: (r) => r.student,
      key: (r) => [r.position, r.topic],
      id: (r) => r.topic,
      sums: (r) => [r.position],
    });
    const rows: Row[] = [];
    for (let s = 0; s < 10; s++) for (let t = 0; t < 5; t++) rows.push({ student: `s${s}`, topic: `t${t}`, position: ((s + t) % 5) + 1 });
    await withTransaction(db, (tx) =>
      applyBatches(tx, [
        { aggregate: byTopic, ops: byTopic.opsFor({ inserted: rows }) },
        { aggregate: byStudent, ops: byStudent.opsFor({ inserted: rows }) },
      ]),
    );
    expect(await byTopic.countBatch(db, [{ namespace: "t0" }, { namespace: "t4" }, { namespace: "none" }])).toEqual([10, 10, 0]);
    expect(await byStudent.sum(db, { namespace: "s3" })).toEqual([15]);
    expect(await byStudent.at(db, { namespace: "s3", offset: 0 })).toEqual({ key: [1, "t2"], id: "t2", sums: [1] });
  });
});
