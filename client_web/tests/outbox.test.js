// The outbox: persisted before sending, retried with the same cid, removed only on ack.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { Outbox } from '../js/model/outbox.js';
import { Store } from '../js/model/storage.js';
import { RequestError } from '../js/net/connection.js';
import { cidKey } from '../js/net/ids.js';
import { FakeStorage, FakeTimers, flush } from './helpers.js';

/** A fake server: records send requests; the test answers them. */
function fakeServer() {
  const calls = [];
  const request = (op, fields) =>
    new Promise((resolve, reject) => calls.push({ op, fields, resolve, reject }));
  return { calls, request };
}

function setup(backend = new FakeStorage(), timers = new FakeTimers()) {
  const store = new Store(backend, 'chatd:v1:u7:');
  const outbox = new Outbox({ store, timers, random: () => 1 });
  return { backend, store, outbox, timers };
}

const ack = (call, seq) => call.resolve({ op: 'ack', rid: 9, ch: call.fields.ch, seq, id: 100 + seq, ts: 5 });

describe('outbox', () => {
  test('persisted before the frame leaves; removed when the ack arrives', async () => {
    const { backend, outbox } = setup();
    const server = fakeServer();
    let storedWhenSent = null;
    const request = (op, fields) => {
      storedWhenSent = [...backend.map.keys()];
      return server.request(op, fields);
    };
    outbox.online(request);
    const events = [];
    outbox.on('acked', (e) => events.push(e));
    const e = outbox.add(3, 'hello');
    assert.deepEqual(storedWhenSent, [`chatd:v1:u7:outbox:${e.cid}`]);
    assert.equal(e.status, 'sending');
    const call = server.calls[0];
    assert.equal(call.op, 'send');
    assert.equal(call.fields.ch, 3);
    assert.equal(call.fields.body, 'hello');
    assert.equal(cidKey(call.fields.cid), e.cid);
    ack(call, 41);
    await flush();
    assert.equal(e.status, 'acked');
    assert.deepEqual(e.ack, { seq: 41, id: 141, ts: 5, ch: 3 });
    assert.equal(backend.map.size, 0);
    assert.deepEqual(events, [e]);
    outbox.settle(e.cid);
    assert.equal(outbox.get(e.cid), undefined);
  });

  test('offline: queued; online: sent in the order typed', async () => {
    const { outbox } = setup();
    const a = outbox.add(1, 'one');
    const b = outbox.add(1, 'two');
    assert.equal(a.status, 'pending');
    const server = fakeServer();
    outbox.online(server.request);
    assert.deepEqual(server.calls.map((c) => c.fields.body), ['one', 'two']);
    assert.equal(b.status, 'sending');
  });

  test('a lost connection keeps the entry; the next connection resends the same cid once', async () => {
    const { outbox } = setup();
    const first = fakeServer();
    outbox.online(first.request);
    const e = outbox.add(1, 'hi');
    first.calls[0].reject(new RequestError('disconnected', 'lost'));
    await flush();
    outbox.offline();
    assert.equal(e.status, 'pending');
    const second = fakeServer();
    outbox.online(second.request);
    outbox.online(second.request); // a second "ready" must not duplicate a send in flight
    assert.equal(second.calls.length, 1);
    assert.deepEqual(second.calls[0].fields.cid, first.calls[0].fields.cid);
  });

  test('survives a reload: a new outbox on the same storage resends with the same cid', async () => {
    const backend = new FakeStorage();
    const before = setup(backend);
    const server = fakeServer();
    before.outbox.online(server.request);
    const e1 = before.outbox.add(2, 'first');
    const e2 = before.outbox.add(2, 'second');
    // The page goes away before any ack.
    const after = setup(backend);
    assert.deepEqual(after.outbox.unsent().map((e) => [e.cid, e.body, e.status]), [
      [e1.cid, 'first', 'pending'],
      [e2.cid, 'second', 'pending'],
    ]);
    const again = fakeServer();
    after.outbox.online(again.request);
    assert.deepEqual(again.calls.map((c) => cidKey(c.fields.cid)), [e1.cid, e2.cid]);
    ack(again.calls[0], 1);
    ack(again.calls[1], 2);
    await flush();
    assert.equal(backend.map.size, 0);
  });

  test('server trouble (unavailable) is retried with backoff, same cid', async () => {
    const { outbox, timers } = setup();
    const server = fakeServer();
    outbox.online(server.request);
    const e = outbox.add(1, 'x');
    server.calls[0].reject(new RequestError('unavailable', 'db down', { retry: true }));
    await flush();
    assert.equal(e.status, 'pending');
    assert.equal(server.calls.length, 1);
    await timers.advance(500);
    assert.equal(server.calls.length, 2);
    assert.deepEqual(server.calls[1].fields.cid, server.calls[0].fields.cid);
    server.calls[1].reject(new RequestError('rate_limited', 'slow down'));
    await flush();
    await timers.advance(999);
    assert.equal(server.calls.length, 2);
    await timers.advance(1);
    assert.equal(server.calls.length, 3);
  });

  test('a refusal marks it failed (persisted); retry sends the same cid again', async () => {
    const backend = new FakeStorage();
    const { outbox } = setup(backend);
    const server = fakeServer();
    outbox.online(server.request);
    const e = outbox.add(1, 'too big');
    server.calls[0].reject(new RequestError('too_large', 'over the limit'));
    await flush();
    assert.equal(e.status, 'failed');
    assert.deepEqual(e.error, { code: 'too_large', message: 'over the limit' });
    const reloaded = setup(backend).outbox;
    assert.equal(reloaded.get(e.cid).status, 'failed');
    reloaded.online(server.request);
    assert.equal(server.calls.length, 1, 'a failed entry is not sent without the user asking');
    reloaded.retry(e.cid);
    assert.equal(server.calls.length, 2);
    assert.deepEqual(server.calls[1].fields.cid, server.calls[0].fields.cid);
  });

  test('discard forgets a failed entry everywhere', async () => {
    const backend = new FakeStorage();
    const { outbox } = setup(backend);
    const server = fakeServer();
    outbox.online(server.request);
    const e = outbox.add(1, 'x');
    server.calls[0].reject(new RequestError('not_member', 'join first'));
    await flush();
    outbox.discard(e.cid);
    assert.equal(outbox.get(e.cid), undefined);
    assert.equal(backend.map.size, 0);
  });

  test('corrupt stored entries are dropped, never sent', () => {
    const backend = new FakeStorage();
    backend.setItem('chatd:v1:u7:outbox:zz', '{nope');
    backend.setItem('chatd:v1:u7:outbox:' + 'a'.repeat(32), JSON.stringify({ cid: 'b'.repeat(32), ch: 1, body: 'x', createdAt: 1, order: 0, status: 'pending' }));
    backend.setItem('chatd:v1:u7:outbox:' + 'c'.repeat(32), JSON.stringify({ cid: 'c'.repeat(32), ch: '1', body: 'x', createdAt: 1, order: 0, status: 'pending' }));
    backend.setItem('chatd:v1:u8:outbox:' + 'd'.repeat(32), JSON.stringify({ cid: 'd'.repeat(32), ch: 1, body: 'x', createdAt: 1, order: 0, status: 'pending' }));
    const { outbox } = setup(backend);
    assert.equal(outbox.unsent().length, 0);
    assert.deepEqual([...backend.map.keys()], ['chatd:v1:u8:outbox:' + 'd'.repeat(32)], "another user's outbox is left alone");
  });

  test('full storage: the message is still sent from memory', async () => {
    const backend = new FakeStorage();
    backend.failWrites = true;
    const { outbox } = setup(backend);
    const server = fakeServer();
    outbox.online(server.request);
    outbox.add(1, 'x');
    assert.equal(server.calls.length, 1);
  });

  test('two tabs share storage without overwriting each other', () => {
    const backend = new FakeStorage();
    const tab1 = setup(backend).outbox;
    const tab2 = setup(backend).outbox;
    tab1.add(1, 'from tab 1');
    tab2.add(1, 'from tab 2');
    const fresh = setup(backend).outbox;
    assert.deepEqual(fresh.unsent().map((e) => e.body).sort(), ['from tab 1', 'from tab 2']);
  });
});
