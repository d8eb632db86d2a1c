export { DirectAggregate, TableAggregate, applyBatches } from "./aggregate";
export type { AggregateOptions, Item, Page, RangeQuery, WriteOp } from "./aggregate";
export type { AggregateDb } from "./db";
export { AggregateConfigError, AggregateDuplicateItemError, AggregateError, AggregateItemMissingError } from "./errors";
export { compareKeys } from "./keys";
export type { Bound, Bounds, Key, KeyPart } from "./keys";
export type { ValidationReport } from "./validate";
