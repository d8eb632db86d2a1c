import type { Bounds, Item, Key, KeyPart } from "~/aggregate";

/*
 * An independent statement of the documented order, used as the oracle:
 * numbers < strings < arrays; numbers numerically, strings by code point,
 * arrays element by element with a proper prefix first; ties by id.
 */
function rank(part: Key): number {
  return typeof part === "number" ? 0 : typeof part === "string" ? 1 : 2;
}

export function compareStrings(a: string, b: string): number {
  const left = Array.from(a, (ch) => ch.codePointAt(0)!);
  const right = Array.from(b, (ch) => ch.codePointAt(0)!);
  for (let i = 0; i < Math.min(left.length, right.length); i++) {
    if (left[i] !== right[i]) return left[i] < right[i] ? -1 : 1;
  }
  return left.length - right.length === 0 ? 0 : left.length < right.length ? -1 : 1;
}

export function compareKey(a: Key, b: Key): number {
  if (rank(a) !== rank(b)) return rank(a) < rank(b) ? -1 : 1;
  if (typeof a === "number") return a === b ? 0 : a < (b as number) ? -1 : 1;
  if (typeof a === "string") return compareStrings(a, b as string);
  const left = a as KeyPart[];
  const right = b as KeyPart[];
  for (let i = 0; i < Math.min(left.length, right.length); i++) {
    const order = compareKey(left[i], right[i]);
    if (order !== 0) return order;
  }
  return left.length === right.length ? 0 : left.length < right.length ? -1 : 1;
}

export function compareItems(a: { key: Key; id: string }, b: { key: Key; id: string }): number {
  return compareKey(a.key, b.key) || compareStrings(a.id, b.id);
}

export function inBounds(item: Item, bounds: Bounds | undefined): boolean {
  if (!bounds) return true;
  if ("prefix" in bounds) {
    return (
      Array.isArray(item.key) &&
      item.key.length >= bounds.prefix.length &&
      bounds.prefix.every((part, i) => compareKey(part, (item.key as KeyPart[])[i]) === 0)
    );
  }
  if ("eq" in bounds) return compareKey(item.key, bounds.eq) === 0;
  const { lower, upper } = bounds;
  if (lower) {
    const order = compareKey(item.key, lower.key);
    if (order < 0) return false;
    if (order === 0) {
      if (lower.id === undefined) {
        if (!lower.inclusive) return false;
      } else {
        const byId = compareStrings(item.id, lower.id);
        if (byId < 0 || (byId === 0 && !lower.inclusive)) return false;
      }
    }
  }
  if (upper) {
    const order = compareKey(item.key, upper.key);
    if (order > 0) return false;
    if (order === 0) {
      if (upper.id === undefined) {
        if (!upper.inclusive) return false;
      } else {
        const byId = compareStrings(item.id, upper.id);
        if (byId > 0 || (byId === 0 && !upper.inclusive)) return false;
      }
    }
  }
  return true;
}

/** A namespace as a sorted array: the reference the B-tree is checked against. */
export class SortedReference {
  items: Item[] = [];

  find(ref: { key: Key; id: string }) {
    return this.items.findIndex((item) => compareItems(item, ref) === 0);
  }

  insert(item: Item): boolean {
    if (this.find(item) >= 0) return false;
    this.items.push(item);
    this.items.sort(compareItems);
    return true;
  }

  delete(ref: { key: Key; id: string }): boolean {
    const index = this.find(ref);
    if (index < 0) return false;
    this.items.splice(index, 1);
    return true;
  }

  within(bounds?: Bounds) {
    return this.items.filter((item) => inBounds(item, bounds));
  }

  sums(bounds: Bounds | undefined, channels: number) {
    const totals = new Array<number>(channels).fill(0);
    for (const item of this.within(bounds)) item.sums.forEach((value, c) => (totals[c] += value));
    return totals;
  }

  /** Items before (key, id) ascending, or after it descending; without id, all items of that key count as the boundary. */
  indexOf(key: Key, id: string | undefined, order: "asc" | "desc") {
    return this.items.filter((item) => {
      const byKey = compareKey(item.key, key);
      if (order === "asc") return byKey < 0 || (byKey === 0 && id !== undefined && compareStrings(item.id, id) < 0);
      return byKey > 0 || (byKey === 0 && id !== undefined && compareStrings(item.id, id) > 0);
    }).length;
  }
}
