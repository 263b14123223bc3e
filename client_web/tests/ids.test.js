// Tests for client_web/js/ids.js. Run: node --test client_web/tests/
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { CID_BYTES, cidKey, newCid } from '../js/net/ids.js';
import { decode, encode } from '../js/net/cbor.js';

test('newCid gives 16 fresh random bytes', () => {
  const seen = new Set();
  for (let i = 0; i < 1000; i++) {
    const cid = newCid();
    assert.ok(cid instanceof Uint8Array);
    assert.equal(cid.length, CID_BYTES);
    seen.add(cidKey(cid));
  }
  assert.equal(seen.size, 1000);
});

test('cidKey is stable across copies and a CBOR round trip', () => {
  const cid = Uint8Array.from({ length: 16 }, (_, i) => i * 17);
  assert.equal(cidKey(cid), '00112233445566778899aabbccddeeff');
  assert.equal(cidKey(decode(encode({ cid })).cid), cidKey(cid));
  assert.notEqual(cidKey(cid), cidKey(newCid()));
});

test('cidKey refuses anything but 16 bytes', () => {
  const bad = [new Uint8Array(15), new Uint8Array(17), 'x'.repeat(16), null, new Uint16Array(16)];
  for (const cid of bad) {
    assert.throws(() => cidKey(cid), TypeError);
  }
});

test('cidFromKey inverts cidKey and refuses anything else', async () => {
  const { cidFromKey } = await import('../js/net/ids.js');
  const cid = newCid();
  assert.deepEqual(cidFromKey(cidKey(cid)), cid);
  for (const bad of ['', 'AB'.repeat(16), 'zz'.repeat(16), '00'.repeat(15), null, '00'.repeat(17)]) {
    assert.throws(() => cidFromKey(bad), TypeError);
  }
});
