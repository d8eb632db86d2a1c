export { DirectAggregate, TableAggregate, applyBatches, compactPending, trustedDeltaArrays } from "./aggregate";
export type { AggregateOptions, BatchOptions, Item, Page, RangeQuery, WriteOp } from "./aggregate";
export type { CompactResult, DeltaArrays } from "./buffer";
export type { AggregateDb } from "./db";
export { AggregateConfigError, AggregateDuplicateItemError, AggregateError, AggregateItemMissingError } from "./errors";
export { compareKeys } from "./keys";
export type { Bound, Bounds, Key, KeyPart } from "./keys";
export type { ValidationReport } from "./validate";
