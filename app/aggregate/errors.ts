/** Base class of every error the aggregate library throws on purpose. */
export class AggregateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A strict delete (or replace) named an item that is not in the tree. */
export class AggregateItemMissingError extends AggregateError {}

/** A strict insert named a (key, id) that is already in the tree. */
export class AggregateDuplicateItemError extends AggregateError {}

/** Bad settings or input: maxNodeSize, channel counts, keys or sums the library cannot store. */
export class AggregateConfigError extends AggregateError {}
