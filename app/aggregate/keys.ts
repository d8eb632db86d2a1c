import { AggregateConfigError } from "./errors";

export type KeyPart = number | string;
export type Key = KeyPart | KeyPart[];
export type Bound = { key: Key; id?: string; inclusive: boolean };
export type Bounds = { lower?: Bound; upper?: Bound } | { prefix: KeyPart[] } | { eq: Key };

/*
 * Memcomparable encoding: comparing two encoded items as unsigned bytes (what
 * Postgres does for bytea) gives the documented total order of (key, id).
 *   number  0x10 + IEEE-754 big-endian, sign bit flipped (negatives: all bits flipped)
 *   string  0x20 + UTF-8 with 0x00 escaped as 0x00 0xFF, terminated by 0x00 0x01
 *   array   0x30 + encoded elements + 0x01
 * The id follows the key, encoded like a string without its tag. Every
 * encoding is self-delimiting, so a key sorts before any longer key it
 * prefixes, and 0xFF (never produced inside a key or id: UTF-8 has no 0xFF
 * byte and every tag is smaller) sorts after every continuation.
 */
const TAG_NUMBER = 0x10;
const TAG_STRING = 0x20;
const TAG_ARRAY = 0x30;
const ARRAY_END = 0x01;
const AFTER_ALL = Buffer.from([0xff]);
const NEXT = Buffer.from([0x00]);
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Strings of these characters encode as themselves, one byte each: no escaping, no surrogates. */
// eslint-disable-next-line no-control-regex -- the range starts at 0x01 on purpose: 0x00 needs escaping.
const PLAIN_ASCII = /^[\x01-\x7f]*$/;
const numberScratch = new DataView(new ArrayBuffer(8));

/** Writes into one growing buffer: items are encoded on every aggregate write, so this avoids per-byte arrays. */
class Writer {
  private buffer = Buffer.allocUnsafe(64);
  private length = 0;

  private reserve(extra: number) {
    if (this.length + extra <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + extra));
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
  }

  private byte(value: number) {
    this.reserve(1);
    this.buffer[this.length++] = value;
  }

  number(value: number) {
    if (Number.isNaN(value)) throw new AggregateConfigError("aggregate keys cannot be NaN");
    numberScratch.setFloat64(0, value === 0 ? 0 : value);
    const negative = (numberScratch.getUint8(0) & 0x80) !== 0;
    this.reserve(9);
    this.buffer[this.length++] = TAG_NUMBER;
    for (let i = 0; i < 8; i++) {
      const raw = numberScratch.getUint8(i);
      this.buffer[this.length++] = negative ? raw ^ 0xff : i === 0 ? raw ^ 0x80 : raw;
    }
  }

  text(value: string) {
    if (PLAIN_ASCII.test(value)) {
      this.reserve(value.length + 2);
      this.length += this.buffer.write(value, this.length, "latin1");
    } else {
      if (LONE_SURROGATE.test(value)) throw new AggregateConfigError("aggregate keys and ids must be well-formed Unicode");
      for (const byte of Buffer.from(value, "utf8")) {
        this.byte(byte);
        if (byte === 0x00) this.byte(0xff);
      }
      this.reserve(2);
    }
    this.buffer[this.length++] = 0x00;
    this.buffer[this.length++] = 0x01;
  }

  part(value: KeyPart) {
    if (typeof value === "number") this.number(value);
    else if (typeof value === "string") {
      this.byte(TAG_STRING);
      this.text(value);
    } else throw new AggregateConfigError(`aggregate key parts must be numbers or strings, got ${typeof value}`);
  }

  key(key: Key) {
    if (Array.isArray(key)) {
      this.byte(TAG_ARRAY);
      for (const part of key) this.part(part);
      this.byte(ARRAY_END);
    } else this.part(key);
  }

  raw(byte: number) {
    this.byte(byte);
  }

  done(): Buffer {
    return Buffer.from(this.buffer.subarray(0, this.length));
  }
}

export function encodeKey(key: Key): Buffer {
  const writer = new Writer();
  writer.key(key);
  return writer.done();
}

export function encodeItem(key: Key, id: string): Buffer {
  if (typeof id !== "string") throw new AggregateConfigError("aggregate item ids must be strings");
  const writer = new Writer();
  writer.key(key);
  writer.text(id);
  return writer.done();
}

class Reader {
  private offset = 0;
  constructor(private readonly bytes: Buffer) {}

  private text(): string {
    const out: number[] = [];
    for (;;) {
      const byte = this.bytes[this.offset++];
      if (byte === undefined) throw new Error("aggregate: truncated encoded string");
      if (byte !== 0x00) {
        out.push(byte);
        continue;
      }
      const next = this.bytes[this.offset++];
      if (next === 0xff) out.push(0x00);
      else if (next === 0x01) return Buffer.from(out).toString("utf8");
      else throw new Error("aggregate: malformed encoded string");
    }
  }

  private part(): KeyPart | KeyPart[] {
    const tag = this.bytes[this.offset++];
    if (tag === TAG_NUMBER) {
      const raw = Uint8Array.from(this.bytes.subarray(this.offset, this.offset + 8));
      this.offset += 8;
      const negative = (raw[0] & 0x80) === 0;
      for (let i = 0; i < 8; i++) raw[i] = negative ? raw[i] ^ 0xff : i === 0 ? raw[i] ^ 0x80 : raw[i];
      return new DataView(raw.buffer).getFloat64(0);
    }
    if (tag === TAG_STRING) return this.text();
    if (tag === TAG_ARRAY) {
      const parts: KeyPart[] = [];
      while (this.bytes[this.offset] !== ARRAY_END) parts.push(this.part() as KeyPart);
      this.offset++;
      return parts;
    }
    throw new Error(`aggregate: unknown key tag ${tag}`);
  }

  item(): { key: Key; id: string } {
    const key = this.part();
    const id = this.text();
    if (this.offset !== this.bytes.length) throw new Error("aggregate: trailing bytes after an encoded item");
    return { key, id };
  }
}

export function decodeItem(bytes: Buffer): { key: Key; id: string } {
  return new Reader(bytes).item();
}

/** A bound as a half-open byte range [lo, hi) over encoded items (null: open). */
export type ByteRange = { lo: Buffer | null; hi: Buffer | null };

function boundBytes(bound: Bound): Buffer {
  return bound.id === undefined ? encodeKey(bound.key) : encodeItem(bound.key, bound.id);
}

export function boundsToRange(bounds: Bounds | undefined): ByteRange {
  if (!bounds) return { lo: null, hi: null };
  if ("prefix" in bounds) {
    const writer = new Writer();
    writer.raw(TAG_ARRAY);
    for (const part of bounds.prefix) writer.part(part);
    const lo = writer.done();
    return { lo, hi: Buffer.concat([lo, AFTER_ALL]) };
  }
  if ("eq" in bounds) {
    const lo = encodeKey(bounds.eq);
    return { lo, hi: Buffer.concat([lo, AFTER_ALL]) };
  }
  let lo: Buffer | null = null;
  let hi: Buffer | null = null;
  if (bounds.lower) {
    const base = boundBytes(bounds.lower);
    const withId = bounds.lower.id !== undefined;
    lo = bounds.lower.inclusive ? base : Buffer.concat([base, withId ? NEXT : AFTER_ALL]);
  }
  if (bounds.upper) {
    const base = boundBytes(bounds.upper);
    const withId = bounds.upper.id !== undefined;
    hi = bounds.upper.inclusive ? Buffer.concat([base, withId ? NEXT : AFTER_ALL]) : base;
  }
  return { lo, hi };
}

/** Items strictly after `item` ascending start at item + 0x00. */
export function justAfter(item: Buffer): Buffer {
  return Buffer.concat([item, NEXT]);
}

/** Items with a key strictly greater than `key`, whatever their id, start here. */
export function afterKey(key: Key): Buffer {
  return Buffer.concat([encodeKey(key), AFTER_ALL]);
}

/** Postgres bytea hex input ('\x...'), for passing byte strings inside text arrays. */
export function byteaLiteral(bytes: Buffer): string {
  return `\\x${bytes.toString("hex")}`;
}

/**
 * A bytea[] array literal (null elements as NULL, e.g. open range bounds),
 * written here rather than by postgres.js, which would quote and escape every
 * element with two regular expressions: a compaction sends ten thousand keys.
 * Hex elements need only the quotes and the escaped backslash.
 */
export function byteaArrayLiteral(keys: readonly (Buffer | null)[]): string {
  return `{${keys.map((key) => (key === null ? "NULL" : `"\\\\x${key.toString("hex")}"`)).join(",")}}`;
}

/** Reference comparison of keys in the documented order, for callers and tests without a database. */
export function compareKeys(a: Key, b: Key): number {
  return Buffer.compare(encodeKey(a), encodeKey(b));
}
