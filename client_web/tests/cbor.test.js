// Tests for client_web/js/cbor.js. Run: node --test client_web/tests/
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import { CborError, MAX_DEPTH, decode, decodeSequence, encode } from '../js/net/cbor.js';

const readJson = (rel) => JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf-8'));
const APPENDIX_A = readJson('../../protocol/cbor-test-vectors/appendix_a.json');
const FAIL = readJson('../../protocol/cbor-test-vectors/fail.json');
const SERVER = readJson('./fixtures/server_frames.json');

const fromHex = (hex) => Uint8Array.from(hex.match(/../g) ?? [], (b) => parseInt(b, 16));
const toHex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

/** Assert that decoding `bytes` fails with a CborError whose message matches `re`. */
function rejects(bytes, re = /./) {
  const input = typeof bytes === 'string' ? fromHex(bytes) : bytes;
  assert.throws(
    () => decode(input),
    (err) => {
      assert.ok(err instanceof CborError, `expected CborError, got ${err && err.name}: ${err}`);
      assert.match(err.message, re);
      return true;
    },
    `decode(${typeof bytes === 'string' ? bytes : '…'}) should fail`,
  );
}

function encodeRejects(value, re = /./) {
  assert.throws(
    () => encode(value),
    (err) => err instanceof CborError && re.test(err.message),
  );
}

// ---------------------------------------------------------------------------------------------
// RFC 8949 Appendix A

// Appendix A items outside the protocol's subset, with the reason each must be refused.
const DISALLOWED = new Map([
  ['c249010000000000000000', /tag 2/], // bignum
  ['c349010000000000000000', /tag 3/],
  ['f7', /undefined/],
  ['f0', /simple value 16/],
  ['f820', /simple value 32/],
  ['f8ff', /simple value 255/],
  ['c074323031332d30332d32315432303a30343a30305a', /tag 0/],
  ['c11a514b67b0', /tag 1/],
  ['c1fb41d452d9ec200000', /tag 1/],
  ['d74401020304', /tag 23/],
  ['d818456449455446', /tag 24/],
  ['d82076687474703a2f2f7777772e6578616d706c652e636f6d', /tag 32/],
  ['a201020304', /map key .* not a text string/],
  ['5f42010243030405ff', /indefinite/],
  ['7f657374726561646d696e67ff', /indefinite/],
  ['9fff', /indefinite/],
  ['9f018202039f0405ffff', /indefinite/],
  ['9f01820203820405ff', /indefinite/],
  ['83018202039f0405ff', /indefinite/],
  ['83019f0203ff820405', /indefinite/],
  ['9f0102030405060708090a0b0c0d0e0f101112131415161718181819ff', /indefinite/],
  ['bf61610161629f0203ffff', /indefinite/],
  ['826161bf61626163ff', /indefinite/],
  ['bf6346756ef563416d7421ff', /indefinite/],
]);

// JSON.parse rounds these two; their exact values.
const BIG_EXPECTED = new Map([
  ['1bffffffffffffffff', 18446744073709551615n],
  ['3bffffffffffffffff', -18446744073709551616n],
]);

/** The expected JS value of an allowed Appendix A item. */
function expectedOf(item) {
  if (BIG_EXPECTED.has(item.hex)) return BIG_EXPECTED.get(item.hex);
  if ('decoded' in item) {
    if (parseInt(item.hex.slice(0, 2), 16) < 0x40) {
      // Guard against a JSON-rounded integer slipping through unnoticed.
      assert.ok(Number.isSafeInteger(item.decoded), `unsafe integer in ${item.hex}`);
    }
    return item.decoded;
  }
  const d = item.diagnostic;
  const bytes = /^h'([0-9a-f]*)'$/.exec(d);
  if (bytes) return fromHex(bytes[1]);
  if (d === 'Infinity') return Infinity;
  if (d === '-Infinity') return -Infinity;
  if (d === 'NaN') return NaN;
  throw new Error(`no expectation for ${item.hex} (${d})`);
}

describe('RFC 8949 Appendix A', () => {
  test('every listed disallowed item is in the vectors', () => {
    const all = new Set(APPENDIX_A.map((i) => i.hex));
    for (const hex of DISALLOWED.keys()) assert.ok(all.has(hex), hex);
    assert.equal(APPENDIX_A.length, 82);
  });

  test('allowed items decode to the expected value', () => {
    let checked = 0;
    for (const item of APPENDIX_A) {
      if (DISALLOWED.has(item.hex)) continue;
      assert.deepStrictEqual(decode(fromHex(item.hex)), expectedOf(item), item.hex);
      checked++;
    }
    assert.equal(checked, APPENDIX_A.length - DISALLOWED.size);
  });

  test('disallowed items (tags, undefined, simple values, indefinite lengths, int keys) are rejected', () => {
    for (const [hex, reason] of DISALLOWED) rejects(hex, reason);
  });

  test('round-trip items re-encode byte-identically', () => {
    let checked = 0;
    for (const item of APPENDIX_A) {
      if (!item.roundtrip || DISALLOWED.has(item.hex)) continue;
      const value = decode(fromHex(item.hex));
      // A JS Number does not remember that it came as float16/float32, and like cbor2 the
      // encoder writes finite floats as float64 (integral ones as integers); those items are
      // checked against cbor2's bytes in the server-frames tests instead.
      const narrowFloat = /^f[9a]/.test(item.hex) && Number.isFinite(value);
      if (narrowFloat) continue;
      assert.equal(toHex(encode(value)), item.hex);
      checked++;
    }
    assert.ok(checked >= 40, `only ${checked} round trips checked`);
  });
});

describe('malformed input (fail.json)', () => {
  test('every item is rejected with a CborError', () => {
    assert.equal(FAIL.length, 679);
    for (const { hex } of FAIL) rejects(hex);
  });
});

// ---------------------------------------------------------------------------------------------
// Strictness, one reason at a time

describe('strict decoder', () => {
  test('trailing bytes', () => {
    rejects('0000', /1 trailing byte/);
    rejects('a0a0', /trailing/);
    rejects('f6ff', /trailing/);
  });

  test('empty input and wrong input types', () => {
    rejects(new Uint8Array(0), /empty/);
    for (const bad of [null, undefined, 'a0', [0xa0], 42, {}, new DataView(new ArrayBuffer(1))]) {
      assert.throws(() => decode(bad), CborError);
    }
  });

  test('accepts an ArrayBuffer and a Uint8Array view at an offset', () => {
    assert.deepStrictEqual(decode(fromHex('a1616101').buffer), { a: 1 });
    const framed = fromHex('ffffa1616102ff');
    assert.deepStrictEqual(decode(framed.subarray(2, 6)), { a: 2 });
  });

  test('indefinite lengths of every major type', () => {
    for (const hex of ['5f40ff', '7f60ff', '9fff', 'bfff']) rejects(hex, /indefinite/);
  });

  test('tags, undefined, simple values, reserved additional information', () => {
    rejects('c0f6', /tag 0/);
    rejects('d9d9f7a0', /tag 55799/); // even the self-describe tag
    rejects('f7', /undefined/);
    rejects('e0', /simple value 0/);
    rejects('f3', /simple value 19/);
    rejects('f818', /malformed two-byte simple value/);
    for (const ib of [0x1c, 0x3d, 0x5e, 0x7c, 0x9d, 0xbe, 0xdc, 0xfc, 0xfd, 0xfe]) {
      rejects(Uint8Array.of(ib), /reserved/);
    }
    rejects('ff', /break/);
  });

  test('map keys: text only, no duplicates', () => {
    rejects('a10000', /not a text string/);
    rejects('a1410000', /not a text string/); // byte-string key
    rejects('a1f600', /not a text string/);
    rejects('a18000', /not a text string/);
    rejects('a2616101616102', /duplicate map key "a"/);
    // Duplicates are found however the key is spelled on the wire (non-shortest length).
    rejects('a26161017801610102', /duplicate/);
    assert.deepStrictEqual(decode(fromHex('a2616101616202')), { a: 1, b: 2 });
  });

  test('a "__proto__" key is data, not a prototype', () => {
    const v = decode(encode(new Map([['__proto__', { polluted: true }]])));
    assert.equal(Object.getPrototypeOf(v), Object.prototype);
    assert.equal(v.polluted, undefined);
    assert.deepStrictEqual(Object.keys(v), ['__proto__']);
    assert.deepStrictEqual(Object.getOwnPropertyDescriptor(v, '__proto__').value, { polluted: true });
    assert.equal({}.polluted, undefined);
    rejects('a2695f5f70726f746f5f5f01695f5f70726f746f5f5f02', /duplicate/);
  });

  test('invalid UTF-8 in text strings and keys', () => {
    for (const hex of [
      '61ff', // never valid
      '6180', // lone continuation byte
      '62c0af', // overlong '/'
      '63eda080', // UTF-16 surrogate D800
      '64f4908080', // above U+10FFFF
      '62e282', // truncated sequence
      '7820' + 'c3'.repeat(32), // long path (TextDecoder) as well as the short one
    ]) {
      rejects(hex, /invalid UTF-8/);
    }
    rejects('a161ff00', /invalid UTF-8/);
  });

  test('a leading byte-order mark is kept, not stripped', () => {
    assert.equal(decode(fromHex('66efbbbf626f6d')), '\ufeffbom');
    assert.equal(decode(fromHex('63efbbbf')), '\ufeff');
  });

  test('truncated input', () => {
    const cut = ['18', '1900', '1a000000', '1b00000000000000', '6261', '4201', '8201', 'a16161', 'a1'];
    for (const hex of [...cut, 'f9', 'fa000000', 'fb00', 'f8']) rejects(hex, /truncated/);
  });

  test('forged huge lengths fail fast without allocating', () => {
    rejects('5bffffffffffffffff00', /truncated/);
    rejects('7b001fffffffffffff00', /truncated/);
    rejects('9b001fffffffffffff00', /truncated/);
    rejects('bbffffffffffffffff00', /truncated/);
    rejects('9affffffff00', /truncated/);
    rejects('ba7fffffff0000', /truncated/);
  });

  test(`nesting: ${MAX_DEPTH} levels decode, ${MAX_DEPTH + 1} do not`, () => {
    const nest = (n, open, leaf) => fromHex(open.repeat(n) + leaf);
    assert.ok(Array.isArray(decode(nest(MAX_DEPTH, '81', '00'))));
    rejects(nest(MAX_DEPTH + 1, '81', '00'), /nesting deeper than 16/);
    assert.equal(typeof decode(nest(MAX_DEPTH, 'a16161', '00')), 'object');
    rejects(nest(MAX_DEPTH + 1, 'a16161', '00'), /nesting/);
    rejects(nest(MAX_DEPTH, '81', '80'), /nesting/); // an empty container counts too
    rejects(nest(MAX_DEPTH, '81', 'a0'), /nesting/);
    // Far deeper than the stack could take if the decoder did not stop early.
    rejects(nest(200_000, '81', '00'), /nesting/);
    rejects(nest(200_000, '9f', ''), /indefinite/);
  });

  test('integers: Number while safe, BigInt beyond, never rounded', () => {
    assert.equal(decode(fromHex('1b001fffffffffffff')), Number.MAX_SAFE_INTEGER);
    assert.equal(decode(fromHex('1b0020000000000000')), 2n ** 53n);
    assert.equal(decode(fromHex('1b0020000000000001')), 2n ** 53n + 1n);
    assert.equal(decode(fromHex('3b001ffffffffffffd')), -Number.MAX_SAFE_INTEGER + 1);
    assert.equal(decode(fromHex('3b001ffffffffffffe')), -Number.MAX_SAFE_INTEGER);
    assert.equal(decode(fromHex('3b001fffffffffffff')), -(2n ** 53n));
    assert.equal(decode(fromHex('3b7fffffffffffffff')), -(2n ** 63n));
    // Non-shortest heads are valid CBOR and decode to the same value.
    assert.equal(decode(fromHex('1b0000000000000001')), 1);
    assert.equal(decode(fromHex('3800')), -1);
  });

  test('floats of every width', () => {
    assert.equal(decode(fromHex('f93c00')), 1);
    assert.ok(Object.is(decode(fromHex('f98000')), -0));
    assert.equal(decode(fromHex('f97bff')), 65504);
    assert.equal(decode(fromHex('f90001')), 2 ** -24);
    assert.equal(decode(fromHex('f903ff')), 1023 * 2 ** -24); // largest subnormal
    assert.ok(Number.isNaN(decode(fromHex('f97e01'))));
    assert.equal(decode(fromHex('fa3fc00000')), 1.5);
    assert.equal(decode(fromHex('fb3ff199999999999a')), 1.1);
  });

  test('byte strings are copies, not views of the frame', () => {
    const frame = fromHex('a16163420102');
    const { c } = decode(frame);
    assert.deepStrictEqual(c, Uint8Array.of(1, 2));
    frame[4] = 9;
    assert.deepStrictEqual(c, Uint8Array.of(1, 2));
    assert.equal(c.buffer.byteLength, 2);
  });
});

// ---------------------------------------------------------------------------------------------
// Encoding

describe('encoder', () => {
  test('shortest integer heads at every boundary', () => {
    const cases = [
      [0, '00'], [23, '17'], [24, '1818'], [255, '18ff'], [256, '190100'],
      [65535, '19ffff'], [65536, '1a00010000'], [2 ** 32 - 1, '1affffffff'],
      [2 ** 32, '1b0000000100000000'], [Number.MAX_SAFE_INTEGER, '1b001fffffffffffff'],
      [-1, '20'], [-24, '37'], [-25, '3818'], [-256, '38ff'], [-257, '390100'],
      [-(2 ** 32), '3affffffff'], [-(2 ** 32) - 1, '3b0000000100000000'],
      [-Number.MAX_SAFE_INTEGER, '3b001ffffffffffffe'],
      [2n ** 64n - 1n, '1bffffffffffffffff'], [-(2n ** 64n), '3bffffffffffffffff'],
      [5n, '05'], [-5n, '24'], [2n ** 53n, '1b0020000000000000'],
    ];
    for (const [v, hex] of cases) assert.equal(toHex(encode(v)), hex, String(v));
  });

  test('non-integers, -0 and unsafe integer Numbers are float64; NaN/Infinity float16', () => {
    assert.equal(toHex(encode(1.5)), 'fb3ff8000000000000');
    assert.equal(toHex(encode(-0)), 'fb8000000000000000');
    assert.equal(toHex(encode(2 ** 53)), 'fb4340000000000000');
    assert.equal(toHex(encode(NaN)), 'f97e00');
    assert.equal(toHex(encode(Infinity)), 'f97c00');
    assert.equal(toHex(encode(-Infinity)), 'f9fc00');
    assert.equal(toHex(encode(1.0)), '01'); // JS has no separate float 1.0
  });

  test('text and byte string heads of every size', () => {
    for (const n of [0, 23, 24, 255, 256, 65535, 65536]) {
      const s = 'x'.repeat(n);
      const e = encode(s);
      assert.equal(decode(e), s);
      const headLen = n < 24 ? 1 : n < 256 ? 2 : n < 65536 ? 3 : 5;
      assert.equal(e.length, headLen + n);
      const b = new Uint8Array(n).fill(7);
      assert.deepStrictEqual(decode(encode(b)), b);
    }
    // The encoder's head-size guess is by UTF-16 length × 3; exercise the shift at each cut.
    for (const s of ['é'.repeat(11), 'é'.repeat(12), 'é'.repeat(85), '€'.repeat(30), '€'.repeat(90)]) {
      const e = encode(s);
      assert.equal(decode(e), s);
      const expected = Buffer.concat([headOf(3, Buffer.byteLength(s)), Buffer.from(s)]);
      assert.equal(toHex(e), expected.toString('hex'));
    }
  });

  test('strings that straddle the growth of the output buffer', () => {
    // The output buffer grows by doubling from a power of two; put short strings right at
    // every such edge up to 2 MiB so a missed capacity check corrupts one of them.
    for (let size = 256; size <= 1 << 21; size *= 2) {
      for (let delta = -12; delta <= 2; delta++) {
        const pad = new Uint8Array(size + delta - 4); // 4 = array head + byte-string head
        const v = [pad, '', 'é', '😀', 'abc'];
        assert.deepStrictEqual(decode(encode(v)), v, `size ${size} delta ${delta}`);
      }
    }
  });

  test('object keys in insertion order; Map accepted', () => {
    assert.equal(toHex(encode({ b: 1, a: 2 })), 'a2616201616102');
    assert.equal(toHex(encode(new Map([['b', 1], ['a', 2]]))), 'a2616201616102');
    assert.equal(toHex(encode(Object.assign(Object.create(null), { z: true }))), 'a1617af5');
  });

  test('refuses what the protocol cannot carry', () => {
    encodeRejects(undefined, /undefined/);
    encodeRejects({ a: undefined }, /undefined .*"a"/);
    encodeRejects([() => 1], /function/);
    encodeRejects(Symbol('s'), /symbol/);
    encodeRejects(new Date(0), /Date/);
    encodeRejects(new Uint16Array(2), /Uint16Array/);
    encodeRejects(new ArrayBuffer(2), /ArrayBuffer/);
    encodeRejects(new Set([1]), /Set/);
    encodeRejects(new (class Frame {})(), /Frame/);
    encodeRejects(new Map([[1, 2]]), /key must be a string/);
    encodeRejects(2n ** 64n, /64-bit/);
    encodeRejects(-(2n ** 64n) - 1n, /64-bit/);
    encodeRejects('\ud800', /surrogate/);
    encodeRejects('abc\udc00', /surrogate/);
    encodeRejects('x'.repeat(100) + '\ud83d', /surrogate/); // long-string path
    encodeRejects({ k: 'ok \udfff ' }, /surrogate/);
  });

  test('nesting and cycles are bounded', () => {
    let v = 0;
    for (let i = 0; i < MAX_DEPTH; i++) v = [v];
    assert.deepStrictEqual(decode(encode(v)), v);
    encodeRejects([v], /nesting/);
    const cyclic = { a: [] };
    cyclic.a.push(cyclic);
    encodeRejects(cyclic, /nesting/);
  });

  test('a failed encode leaves the encoder usable; results are independent copies', () => {
    encodeRejects({ a: 'x'.repeat(5000), b: undefined });
    const first = encode({ a: 1 });
    const second = encode({ a: 2 });
    assert.equal(toHex(first), 'a1616101');
    assert.equal(toHex(second), 'a1616102');
    assert.equal(first.buffer.byteLength, 4);
  });

  test('re-entrant encode from a getter', () => {
    const inner = { get v() { return encode('in'); } };
    // {x: {v: h'62696e'}, y: 1}: the inner call's bytes are embedded as a byte string.
    assert.equal(toHex(encode({ x: inner, y: 1 })), 'a26178a1617643' + '62696e' + '617901');
  });
});

function headOf(major, n) {
  const mt = major << 5;
  if (n < 24) return Buffer.of(mt | n);
  if (n < 256) return Buffer.of(mt | 24, n);
  if (n < 65536) return Buffer.of(mt | 25, n >> 8, n & 255);
  const b = Buffer.alloc(5);
  b[0] = mt | 26;
  b.writeUInt32BE(n, 1);
  return b;
}

// ---------------------------------------------------------------------------------------------
// Round trips

describe('round trips', () => {
  const values = [
    0, 1, -1, 23, 24, -24, -25, 1000, -1000, 2 ** 31, -(2 ** 31), 2 ** 32, -(2 ** 32) - 1,
    Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER - 1,
    2n ** 53n, 2n ** 53n + 1n, -(2n ** 53n), -(2n ** 53n) - 1n, 2n ** 63n - 1n, -(2n ** 63n),
    2n ** 64n - 1n, -(2n ** 64n),
    0.5, -0.5, 1.1, -4.1, 1e300, -1e-300, 5e-324, Number.MAX_VALUE, -0, NaN, Infinity, -Infinity,
    2 ** 53, 2 ** 60, -(2 ** 70),
    true, false, null,
    '', 'a', 'IETF', '"\\', 'ü', '水', '𐅑', '😀', '👩‍👩‍👧‍👦', '👋🏽', '🇫🇷', '\u0000', '\ufeff',
    'שלום עולם', 'مرحبا بالعالم', 'mixed עברית and English 123', '\u202eRTL override',
    '𝄞𝕏𠜎'.repeat(50), 'é'.repeat(10000), 'x'.repeat(70000),
    new Uint8Array(0), Uint8Array.of(0, 255), new Uint8Array(300).fill(0xab),
    [], {}, [[]], [{}], { '': '' }, { a: {}, b: [] },
    [1, [2, 3], [4, 5]], { a: 1, b: [2, 3] }, ['a', { b: 'c' }],
    { op: 'msg', ch: 12, seq: 346, id: 98765, ts: 1763000123456, user: 8, name: 'bob',
      display: 'Bob 🚀', body: 'héllo 👋🏽 שלום 𝄞', cid: new Uint8Array(16).fill(1) },
    { nested: { deeper: { deepest: [null, true, false, -1.5, 'ok', new Uint8Array([1])] } } },
    { 'key with spaces': 1, 'ключ': 2, '🔑': 3, __proto__x: 4 },
  ];

  test('decode(encode(v)) equals v', () => {
    for (const v of values) {
      const label = typeof v === 'string' ? JSON.stringify(v.slice(0, 20)) : String(v).slice(0, 40);
      assert.deepStrictEqual(decode(encode(v)), v, label);
    }
  });

  test('encode(decode(b)) equals b for canonical encodings', () => {
    for (const v of values) {
      const b = encode(v);
      assert.deepStrictEqual(encode(decode(b)), b);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Against the server's encoder (Python cbor2), fixtures from fixtures/make_server_frames.py

/** Undo the JSON escapes used by make_server_frames.py. */
function revive(v) {
  if (Array.isArray(v)) return v.map(revive);
  if (v !== null && typeof v === 'object') {
    if ('$bytes' in v) return fromHex(v.$bytes);
    if ('$int' in v) return BigInt(v.$int);
    if ('$float' in v) return { nan: NaN, inf: Infinity, '-inf': -Infinity }[v.$float];
    const out = {};
    for (const [k, item] of Object.entries(v)) out[k] = revive(item);
    return out;
  }
  return v;
}

describe('server frames (cbor2)', () => {
  const rows = [...SERVER.frames, ...SERVER.scalars];

  test('fixture is present and covers the typical frames', () => {
    assert.ok(SERVER.frames.length >= 5);
    assert.ok(SERVER.scalars.length >= 40);
    const ops = SERVER.frames.map((f) => f.value.op);
    for (const op of ['ok', 'msg', 'error', 'ack']) assert.ok(ops.includes(op), op);
  });

  test('JS decodes what cbor2 encoded', () => {
    for (const row of rows) assert.deepStrictEqual(decode(fromHex(row.hex)), revive(row.value), row.name);
  });

  test('JS encodes the same values to identical bytes', () => {
    for (const row of rows) assert.equal(toHex(encode(revive(row.value))), row.hex, row.name);
  });

  test('msg push: the cid is a 16-byte Uint8Array and the emoji body is intact', () => {
    const msg = decode(fromHex(SERVER.frames.find((f) => f.value.op === 'msg').hex));
    assert.ok(msg.cid instanceof Uint8Array);
    assert.equal(msg.cid.length, 16);
    assert.ok(msg.body.includes('👋🏽') && msg.body.includes('שלום') && msg.body.includes('𝄞'));
    assert.ok(Number.isSafeInteger(msg.ts) && msg.ts > 2 ** 32);
  });
});

// ---------------------------------------------------------------------------------------------
// Fuzz: bounded, seeded, so a failure reproduces

/** mulberry32: a tiny deterministic PRNG. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** decode must return a value that survives a round trip, or throw a CborError: nothing else. */
function fuzzOne(bytes) {
  let v;
  try {
    v = decode(bytes);
  } catch (err) {
    if (!(err instanceof CborError)) {
      assert.fail(`decode(${toHex(bytes)}) threw ${err && err.name}: ${err && err.message}`);
    }
    return false;
  }
  assert.deepStrictEqual(decode(encode(v)), v, toHex(bytes));
  return true;
}

describe('fuzz', () => {
  test('20k random byte strings: only CborError, or a value that round-trips', () => {
    const rand = prng(0xc0ffee);
    let accepted = 0;
    for (let i = 0; i < 20_000; i++) {
      const len = Math.floor(rand() * 40);
      const bytes = new Uint8Array(len);
      for (let j = 0; j < len; j++) bytes[j] = Math.floor(rand() * 256);
      if (fuzzOne(bytes)) accepted++;
    }
    assert.ok(accepted > 100, `only ${accepted} inputs were valid: the fuzz is too shallow`);
  });

  test('20k mutations of real frames: only CborError, or a value that round-trips', () => {
    const rand = prng(1234);
    const seeds = [...SERVER.frames.map((f) => fromHex(f.hex)), ...APPENDIX_A.map((i) => fromHex(i.hex))];
    let accepted = 0;
    for (let i = 0; i < 20_000; i++) {
      const base = seeds[Math.floor(rand() * seeds.length)];
      let bytes = base.slice();
      const edits = 1 + Math.floor(rand() * 3);
      for (let e = 0; e < edits; e++) {
        const op = rand();
        const at = Math.floor(rand() * (bytes.length + 1));
        if (op < 0.5 && bytes.length) bytes[at % bytes.length] = Math.floor(rand() * 256);
        else if (op < 0.7) bytes = bytes.slice(0, at); // truncate
        else if (op < 0.85 && bytes.length) bytes[at % bytes.length] ^= 1 << Math.floor(rand() * 8);
        else {
          const ins = Uint8Array.of(Math.floor(rand() * 256));
          bytes = Uint8Array.from([...bytes.subarray(0, at), ...ins, ...bytes.subarray(at)]);
        }
      }
      if (fuzzOne(bytes)) accepted++;
    }
    assert.ok(accepted > 500, `only ${accepted} mutants decoded`);
  });
});

describe('decodeSequence', () => {
  test('decodes items back to back, each as strictly as decode()', () => {
    const one = encode({ op: 'ok', rid: 1 });
    const two = encode({ op: 'caughtup', ch: 5, seq: 9 });
    const both = new Uint8Array([...one, ...two]);
    assert.deepEqual(decodeSequence(both), [{ op: 'ok', rid: 1 }, { op: 'caughtup', ch: 5, seq: 9 }]);
    assert.deepEqual(decodeSequence(one.buffer.slice(one.byteOffset, one.byteOffset + one.length)), [{ op: 'ok', rid: 1 }]);
  });

  test('refuses an empty message, a cut item and a bad item anywhere', () => {
    const one = encode({ op: 'ok', rid: 1 });
    for (const bad of [new Uint8Array(), new Uint8Array([...one, ...one.subarray(0, 3)]), new Uint8Array([...one, 0xff]), new Uint8Array([...one, 0xc1, 0x01])]) {
      assert.throws(() => decodeSequence(bad), CborError);
    }
    assert.throws(() => decodeSequence('not bytes'), CborError);
  });
});
