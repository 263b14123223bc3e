// CBOR (RFC 8949) codec for the chatd wire protocol: the strict subset the protocol allows.
// Pure: no I/O, no dependencies, no build step. ES module for current Chrome, Firefox, Safari
// and Node ≥ 20.
//
// Type mapping
//   CBOR                      JS (decode)                         JS (encode)
//   unsigned/negative int     Number if within ±(2^53−1),         Number that is a safe integer
//                             else BigInt (never rounded)         (except −0); BigInt within
//                                                                 −2^64 … 2^64−1, else CborError
//   float16/32/64             Number                              every other Number, as float64;
//                                                                 NaN/±Infinity as float16
//   text string               string (UTF-8, validated)           string (lone surrogates: error)
//   byte string               Uint8Array (a copy, own buffer)     Uint8Array (Node Buffer too)
//   array                     Array                               Array
//   map (text keys only)      plain Object                        plain Object or Map with
//                                                                 string keys
//   true/false/null           true/false/null                     true/false/null
//
// Integers: a Number that is a safe integer encodes as the shortest CBOR integer (preferred
// serialisation), exactly as Python's cbor2 encodes the same int, so client and server bytes can
// be compared. A Number outside the safe range is not a trustworthy integer, so it encodes as a
// float64 like any non-integer Number; pass a BigInt to send a large integer. Because JS has a
// single Number type, 1.0 encodes as the integer 1 (cbor2 would write float64 for a Python
// float 1.0); −0 stays a float64 so its sign survives. Floats are always written as float64
// (NaN and ±Infinity as their float16 forms f97e00/f97c00/f9fc00), which is what cbor2 writes.
//
// Map key order: the encoder writes keys in JS enumeration order, i.e. insertion order for the
// protocol's keys, which matches cbor2 (canonical=False) encoding a dict built in the same order.
// Caveat of JS objects: integer-like keys ("0", "12") always enumerate first, in ascending
// order; use a Map when that matters. The decoder builds plain objects in wire order, and a
// "__proto__" key is stored as an ordinary own property (it never touches the prototype).
//
// The decoder is strict: exactly one item (trailing bytes are an error); rejected are
// indefinite-length items, tags (including bignums), undefined, simple values other than
// true/false/null, reserved additional-information values, non-text map keys, duplicate keys,
// invalid UTF-8, truncated input and nesting deeper than MAX_DEPTH. Every failure is a
// CborError; decode never returns a value for malformed input and runs in time linear in the
// input (lengths are checked against the remaining bytes before anything is allocated).

/** Maximum nesting of arrays/maps: a top-level container is depth 1. Applies to both directions. */
export const MAX_DEPTH = 16;

/** The only error decode() and encode() throw. */
export class CborError extends Error {
  /** @param {string} message */
  constructor(message) {
    super(message);
    this.name = 'CborError';
  }
}

const TWO_32 = 2 ** 32;
const MAX_U64 = 0xffffffffffffffffn;

// ---------------------------------------------------------------------------------------------
// Decoding

// fatal: invalid UTF-8 throws instead of becoming U+FFFD; ignoreBOM: a leading U+FEFF is content,
// not a byte-order mark to strip.
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

// Below this many bytes a hand-written ASCII fast path beats a TextDecoder call.
const SHORT_TEXT_BYTES = 32;

/**
 * Decode exactly one CBOR item.
 *
 * @param {Uint8Array|ArrayBuffer} input the whole frame; it is not modified or retained.
 * @returns {*} the decoded value (see the mapping at the top of this file).
 * @throws {CborError} for anything malformed or outside the allowed subset.
 */
export function decode(input) {
  return decodeItems(input, true)[0];
}

/**
 * Decode a CBOR sequence (RFC 8742): one or more whole items back to back, as the server packs
 * frames into one WebSocket message (PROTOCOL.md §1). Every item gets the strictness of decode().
 *
 * @param {Uint8Array|ArrayBuffer} input the whole message; it is not modified or retained.
 * @returns {Array<*>} the items, in order (at least one).
 * @throws {CborError} for an empty input, a malformed item, or one cut off at the end.
 */
export function decodeSequence(input) {
  return decodeItems(input, false);
}

function decodeItems(input, single) {
  let bytes;
  if (input instanceof Uint8Array) {
    bytes = input;
  } else if (input instanceof ArrayBuffer) {
    bytes = new Uint8Array(input);
  } else {
    throw new CborError('decode expects a Uint8Array or an ArrayBuffer');
  }
  if (bytes.length === 0) {
    throw new CborError('empty input: expected one CBOR item');
  }
  const reader = new Reader(bytes);
  const items = [];
  while (reader.pos < bytes.length) {
    if (single && items.length === 1) {
      throw new CborError(
        `${bytes.length - reader.pos} trailing byte(s) after the item (at offset ${reader.pos})`,
      );
    }
    try {
      items.push(reader.item(0));
    } catch (err) {
      if (err instanceof CborError) throw err;
      // Defensive: nothing below should throw anything else, but the contract is CborError only.
      throw new CborError(`malformed CBOR: ${err && err.message ? err.message : String(err)}`);
    }
  }
  return items;
}

class Reader {
  /** @param {Uint8Array} bytes */
  constructor(bytes) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = 0;
  }

  /** @param {number} n bytes the caller is about to read */
  need(n, what) {
    if (this.bytes.length - this.pos < n) {
      throw new CborError(`truncated input: ${what} at offset ${this.pos} needs ${n} byte(s)`);
    }
  }

  /**
   * The argument of a head: a Number below 2^53, or a BigInt at or above it.
   * @param {number} ai additional information, already known to be < 28
   */
  argument(ai) {
    if (ai < 24) return ai;
    const pos = this.pos;
    if (ai === 24) {
      this.need(1, 'argument');
      this.pos = pos + 1;
      return this.bytes[pos];
    }
    if (ai === 25) {
      this.need(2, 'argument');
      this.pos = pos + 2;
      return this.view.getUint16(pos);
    }
    if (ai === 26) {
      this.need(4, 'argument');
      this.pos = pos + 4;
      return this.view.getUint32(pos);
    }
    this.need(8, 'argument');
    this.pos = pos + 8;
    const hi = this.view.getUint32(pos);
    const lo = this.view.getUint32(pos + 4);
    if (hi < 0x200000) return hi * TWO_32 + lo; // < 2^53: exact as a Number
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  /** @param {number} depth containers already open around this item */
  item(depth) {
    const start = this.pos;
    if (start >= this.bytes.length) {
      throw new CborError(`truncated input: expected an item at offset ${start}`);
    }
    const ib = this.bytes[start];
    this.pos = start + 1;
    const major = ib >> 5;
    const ai = ib & 0x1f;
    if (major === 7) return this.simpleOrFloat(ai, start);
    if (ai === 31) {
      throw new CborError(`indefinite-length item at offset ${start} is not allowed`);
    }
    if (ai >= 28) {
      throw new CborError(`reserved additional information ${ai} at offset ${start}`);
    }
    const arg = this.argument(ai);
    switch (major) {
      case 0:
        return arg;
      case 1:
        // -1 - arg stays a safe integer only while arg ≤ 2^53 − 2.
        if (typeof arg === 'number' && arg < Number.MAX_SAFE_INTEGER) return -1 - arg;
        return -1n - BigInt(arg);
      case 2: {
        const len = this.length(arg, 'byte string', start);
        const pos = this.pos;
        this.pos = pos + len;
        return this.bytes.slice(pos, pos + len);
      }
      case 3: {
        const len = this.length(arg, 'text string', start);
        return this.text(len, start);
      }
      case 4:
        return this.array(arg, depth + 1, start);
      case 5:
        return this.map(arg, depth + 1, start);
      default: // 6
        throw new CborError(`tag ${arg} at offset ${start} is not allowed`);
    }
  }

  /**
   * Validate a length or count against the bytes left (each element takes ≥ minBytes), so a
   * forged huge length is refused before any allocation.
   */
  length(arg, what, start, minBytes = 1) {
    const left = this.bytes.length - this.pos;
    if (typeof arg !== 'number' || arg * minBytes > left) {
      throw new CborError(
        `truncated input: ${what} at offset ${start} declares ${arg} but ${left} byte(s) remain`,
      );
    }
    return arg;
  }

  text(len, start) {
    const bytes = this.bytes;
    const pos = this.pos;
    const end = pos + len;
    this.pos = end;
    if (len < SHORT_TEXT_BYTES) {
      // Most keys and many values are short ASCII: build them directly.
      let out = '';
      let i = pos;
      for (; i < end; i++) {
        const b = bytes[i];
        if (b >= 0x80) break;
        out += String.fromCharCode(b);
      }
      if (i === end) return out;
    }
    try {
      return utf8Decoder.decode(bytes.subarray(pos, end));
    } catch {
      throw new CborError(`invalid UTF-8 in the text string at offset ${start}`);
    }
  }

  array(count, depth, start) {
    if (depth > MAX_DEPTH) {
      throw new CborError(`nesting deeper than ${MAX_DEPTH} at offset ${start}`);
    }
    this.length(count, 'array', start);
    const out = new Array(count);
    for (let i = 0; i < count; i++) out[i] = this.item(depth);
    return out;
  }

  map(count, depth, start) {
    if (depth > MAX_DEPTH) {
      throw new CborError(`nesting deeper than ${MAX_DEPTH} at offset ${start}`);
    }
    this.length(count, 'map', start, 2);
    const out = {};
    for (let i = 0; i < count; i++) {
      const keyPos = this.pos;
      if (keyPos >= this.bytes.length) {
        throw new CborError(`truncated input: expected a map key at offset ${keyPos}`);
      }
      if (this.bytes[keyPos] >> 5 !== 3) {
        throw new CborError(`map key at offset ${keyPos} is not a text string`);
      }
      const key = this.item(depth);
      if (Object.prototype.hasOwnProperty.call(out, key)) {
        throw new CborError(`duplicate map key ${JSON.stringify(key)} at offset ${keyPos}`);
      }
      const value = this.item(depth);
      if (key === '__proto__') {
        // Plain assignment would replace the prototype instead of adding a key.
        Object.defineProperty(out, key, {
          value,
          writable: true,
          enumerable: true,
          configurable: true,
        });
      } else {
        out[key] = value;
      }
    }
    return out;
  }

  simpleOrFloat(ai, start) {
    switch (ai) {
      case 20:
        return false;
      case 21:
        return true;
      case 22:
        return null;
      case 23:
        throw new CborError(`undefined at offset ${start} is not allowed`);
      case 24: {
        this.need(1, 'simple value');
        const v = this.bytes[this.pos++];
        if (v < 32) {
          throw new CborError(`malformed two-byte simple value ${v} at offset ${start}`);
        }
        throw new CborError(`simple value ${v} at offset ${start} is not allowed`);
      }
      case 25: {
        this.need(2, 'float16');
        const h = this.view.getUint16(this.pos);
        this.pos += 2;
        return halfToNumber(h);
      }
      case 26: {
        this.need(4, 'float32');
        const f = this.view.getFloat32(this.pos);
        this.pos += 4;
        return f;
      }
      case 27: {
        this.need(8, 'float64');
        const d = this.view.getFloat64(this.pos);
        this.pos += 8;
        return d;
      }
      case 28:
      case 29:
      case 30:
        throw new CborError(`reserved additional information ${ai} at offset ${start}`);
      case 31:
        throw new CborError(`unexpected break at offset ${start}`);
      default: // 0..19
        throw new CborError(`simple value ${ai} at offset ${start} is not allowed`);
    }
  }
}

/** IEEE 754 binary16 → Number (exact: every half is representable as a double). */
function halfToNumber(h) {
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  let v;
  if (exp === 0) v = mant * 2 ** -24; // zero and subnormals
  else if (exp === 31) v = mant === 0 ? Infinity : NaN;
  else v = (mant + 1024) * 2 ** (exp - 25);
  return h & 0x8000 ? -v : v;
}

// ---------------------------------------------------------------------------------------------
// Encoding

/**
 * Encode one value as CBOR.
 *
 * @param {*} value see the mapping at the top of this file; anything else (undefined, functions,
 *   symbols, Dates, class instances, other typed arrays, cycles) is refused.
 * @returns {Uint8Array} a fresh array the caller owns.
 * @throws {CborError} when the value (or something inside it) cannot be encoded.
 */
export function encode(value) {
  // One scratch buffer is reused across calls; the flag guards against a getter that calls
  // encode() re-entrantly.
  const reuse = !scratchBusy;
  const w = reuse ? scratch : new Writer(256);
  if (reuse) scratchBusy = true;
  w.pos = 0;
  try {
    w.value(value, 0);
    return w.buf.slice(0, w.pos);
  } catch (err) {
    if (err instanceof CborError) throw err;
    throw new CborError(`cannot encode: ${err && err.message ? err.message : String(err)}`);
  } finally {
    if (reuse) {
      scratchBusy = false;
      // Do not keep a huge buffer alive after one big frame.
      if (scratch.buf.length > 1 << 20) scratch = new Writer(4096);
    }
  }
}

const utf8Encoder = new TextEncoder();
const hasIsWellFormed = typeof String.prototype.isWellFormed === 'function';
const LONE_SURROGATE = /\p{Cs}/u; // in u-mode a matched pair is one code point, not Cs

function isWellFormed(s) {
  return hasIsWellFormed ? s.isWellFormed() : !LONE_SURROGATE.test(s);
}

function describe(v) {
  if (v === undefined) return 'undefined';
  if (typeof v === 'function') return 'a function';
  if (typeof v === 'symbol') return 'a symbol';
  const name = v && v.constructor && v.constructor.name;
  return name ? `an object of type ${name}` : 'an object with a custom prototype';
}

class Writer {
  constructor(size) {
    this.buf = new Uint8Array(size);
    this.view = new DataView(this.buf.buffer);
    this.pos = 0;
  }

  ensure(n) {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const buf = new Uint8Array(size);
    buf.set(this.buf.subarray(0, this.pos));
    this.buf = buf;
    this.view = new DataView(buf.buffer);
  }

  /** Head with a Number argument 0 ≤ n ≤ 2^53 − 1, in the shortest form. */
  head(major, n) {
    this.ensure(9);
    const buf = this.buf;
    const pos = this.pos;
    const mt = major << 5;
    if (n < 24) {
      buf[pos] = mt | n;
      this.pos = pos + 1;
    } else if (n < 0x100) {
      buf[pos] = mt | 24;
      buf[pos + 1] = n;
      this.pos = pos + 2;
    } else if (n < 0x10000) {
      buf[pos] = mt | 25;
      this.view.setUint16(pos + 1, n);
      this.pos = pos + 3;
    } else if (n < TWO_32) {
      buf[pos] = mt | 26;
      this.view.setUint32(pos + 1, n);
      this.pos = pos + 5;
    } else {
      buf[pos] = mt | 27;
      this.view.setUint32(pos + 1, Math.floor(n / TWO_32));
      this.view.setUint32(pos + 5, n >>> 0);
      this.pos = pos + 9;
    }
  }

  value(v, depth) {
    switch (typeof v) {
      case 'string':
        this.text(v);
        return;
      case 'number':
        this.number(v);
        return;
      case 'boolean':
        this.byte(v ? 0xf5 : 0xf4);
        return;
      case 'bigint':
        this.bigint(v);
        return;
      case 'object':
        break;
      default:
        throw new CborError(`cannot encode ${describe(v)}`);
    }
    if (v === null) {
      this.byte(0xf6);
      return;
    }
    if (v instanceof Uint8Array) {
      this.head(2, v.length);
      this.ensure(v.length);
      this.buf.set(v, this.pos);
      this.pos += v.length;
      return;
    }
    const inner = depth + 1;
    if (inner > MAX_DEPTH) {
      throw new CborError(`nesting deeper than ${MAX_DEPTH} (or a cycle) cannot be encoded`);
    }
    if (Array.isArray(v)) {
      const n = v.length;
      this.head(4, n);
      for (let i = 0; i < n; i++) this.value(v[i], inner);
      return;
    }
    if (v instanceof Map) {
      this.head(5, v.size);
      for (const [k, item] of v) {
        if (typeof k !== 'string') {
          throw new CborError(`map key must be a string, not ${typeof k}`);
        }
        this.text(k);
        this.value(item, inner);
      }
      return;
    }
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) {
      throw new CborError(`cannot encode ${describe(v)}`);
    }
    const keys = Object.keys(v);
    this.head(5, keys.length);
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      const item = v[k];
      if (item === undefined) {
        throw new CborError(`cannot encode undefined (the value of key ${JSON.stringify(k)})`);
      }
      this.text(k);
      this.value(item, inner);
    }
  }

  byte(b) {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }

  number(v) {
    if (Number.isSafeInteger(v) && !Object.is(v, -0)) {
      if (v >= 0) this.head(0, v);
      else this.head(1, -1 - v);
      return;
    }
    this.ensure(9);
    const pos = this.pos;
    if (Number.isNaN(v)) {
      this.buf.set([0xf9, 0x7e, 0x00], pos);
      this.pos = pos + 3;
    } else if (v === Infinity || v === -Infinity) {
      this.buf.set([0xf9, v > 0 ? 0x7c : 0xfc, 0x00], pos);
      this.pos = pos + 3;
    } else {
      this.buf[pos] = 0xfb;
      this.view.setFloat64(pos + 1, v);
      this.pos = pos + 9;
    }
  }

  bigint(v) {
    let major = 0;
    let n = v;
    if (v < 0n) {
      major = 1;
      n = -1n - v;
    }
    if (n > MAX_U64) {
      throw new CborError(`integer ${v} is outside the CBOR 64-bit range`);
    }
    if (n <= BigInt(Number.MAX_SAFE_INTEGER)) {
      this.head(major, Number(n));
      return;
    }
    this.ensure(9);
    this.buf[this.pos] = (major << 5) | 27;
    this.view.setBigUint64(this.pos + 1, n);
    this.pos += 9;
  }

  text(s) {
    const len = s.length;
    // UTF-8 needs at most 3 bytes per UTF-16 unit. Write the bytes after room for the largest
    // head that length could need, then close the gap once the exact byte count is known:
    // no intermediate array.
    const max = len * 3;
    const room = max < 24 ? 1 : max < 0x100 ? 2 : max < 0x10000 ? 3 : max < TWO_32 ? 5 : 9;
    this.ensure(max + 9); // ≥ room + max, and head() below then never has to grow the buffer
    const at = this.pos + room;
    let n;
    if (len <= 64) {
      n = this.utf8Short(s, at);
    } else {
      if (!isWellFormed(s)) {
        throw new CborError('text contains a lone UTF-16 surrogate (not valid Unicode)');
      }
      n = utf8Encoder.encodeInto(s, this.buf.subarray(at)).written;
    }
    const headLen = n < 24 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : n < TWO_32 ? 5 : 9;
    if (headLen < room) this.buf.copyWithin(this.pos + headLen, at, at + n);
    this.head(3, n);
    this.pos += n;
  }

  /** UTF-8 encode a short string at `at`; returns the byte count. Rejects lone surrogates. */
  utf8Short(s, at) {
    const buf = this.buf;
    let p = at;
    for (let i = 0; i < s.length; i++) {
      let c = s.charCodeAt(i);
      if (c < 0x80) {
        buf[p++] = c;
      } else if (c < 0x800) {
        buf[p++] = 0xc0 | (c >> 6);
        buf[p++] = 0x80 | (c & 0x3f);
      } else if (c < 0xd800 || c > 0xdfff) {
        buf[p++] = 0xe0 | (c >> 12);
        buf[p++] = 0x80 | ((c >> 6) & 0x3f);
        buf[p++] = 0x80 | (c & 0x3f);
      } else {
        const lo = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
        if (c > 0xdbff || lo < 0xdc00 || lo > 0xdfff) {
          throw new CborError('text contains a lone UTF-16 surrogate (not valid Unicode)');
        }
        i++;
        c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
        buf[p++] = 0xf0 | (c >> 18);
        buf[p++] = 0x80 | ((c >> 12) & 0x3f);
        buf[p++] = 0x80 | ((c >> 6) & 0x3f);
        buf[p++] = 0x80 | (c & 0x3f);
      }
    }
    return p - at;
  }
}

let scratch = new Writer(4096);
let scratchBusy = false;
