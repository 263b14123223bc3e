// The connection state machine against a fake socket and fake timers.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { Connection, RequestError, isSafeFrame, HANDSHAKE_TIMEOUT_MS } from '../js/net/connection.js';
import { backoffDelay, BACKOFF_MAX_MS } from '../js/net/backoff.js';
import { encode } from '../js/net/cbor.js';
import { FakeSocket, FakeTimers, flush, helloOk } from './helpers.js';

function setup({ resume = () => [], random = () => 0.5 } = {}) {
  const timers = new FakeTimers();
  const sockets = [];
  const conn = new Connection({
    url: 'wss://chat.test/ws',
    createSocket: (url) => {
      const ws = new FakeSocket(url);
      sockets.push(ws);
      return ws;
    },
    resume,
    timers,
    random,
  });
  const statuses = [];
  conn.on('status', (s) => statuses.push(s.status));
  const ws = () => sockets[sockets.length - 1];
  /** Open the current socket and answer its hello. */
  const online = async (extra) => {
    ws().open();
    const hello = ws().last();
    ws().push(helloOk(hello.rid, extra));
    await flush();
  };
  return { conn, timers, sockets, ws, statuses, online };
}

describe('backoff', () => {
  test('doubles from 0.5 s to 30 s, with half of each step jittered', () => {
    assert.equal(backoffDelay(0, () => 0), 250);
    assert.equal(backoffDelay(0, () => 0.999999), 500);
    assert.equal(backoffDelay(1, () => 0), 500);
    assert.equal(backoffDelay(3, () => 1), 4000);
    assert.equal(backoffDelay(6, () => 1), 30000); // 32 s capped
    assert.equal(backoffDelay(1000, () => 1), 30000); // no overflow
    assert.equal(backoffDelay(-3, () => 1), 500);
  });

  test('a broken random source cannot produce a negative or huge delay', () => {
    assert.equal(backoffDelay(2, () => -5), 1000);
    assert.equal(backoffDelay(2, () => 7), 2000);
  });
});

describe('handshake', () => {
  test('hello is the first frame, with v 1 and no resume when nothing is held', async () => {
    const { conn, ws, statuses } = setup();
    conn.start();
    assert.equal(conn.status, 'connecting');
    assert.equal(ws().url, 'wss://chat.test/ws');
    assert.equal(ws().binaryType, 'arraybuffer');
    ws().open();
    assert.deepEqual(ws().frames(), [{ op: 'hello', rid: 1, v: 1 }]);
    const ready = [];
    conn.on('ready', (ok) => ready.push(ok));
    ws().push(helloOk(1));
    await flush();
    assert.equal(conn.status, 'online');
    assert.equal(ready.length, 1);
    assert.equal(ready[0].user.name, 'alice');
    assert.equal(conn.session.limits.body_bytes, 16384);
    assert.deepEqual(statuses, ['connecting', 'online']);
  });

  test('hello carries the last seq held per channel, asked afresh at every connection', async () => {
    let held = [[12, 338]];
    const { conn, ws, timers, online } = setup({ resume: () => held });
    conn.start();
    await online();
    assert.deepEqual(ws().frames()[0], { op: 'hello', rid: 1, v: 1, resume: [[12, 338]] });
    held = [[12, 341], [3, 0]];
    ws().serverClose(1006);
    await timers.advance(backoffDelay(0, () => 0.5));
    ws().open();
    assert.deepEqual(ws().frames()[0].resume, [[12, 341], [3, 0]]);
  });

  test('malformed resume entries are left out rather than sent', async () => {
    const { conn, ws } = setup({ resume: () => [[1, 2], [-1, 3], [2, 1.5], [3, 2 ** 53]] });
    conn.start();
    ws().open();
    assert.deepEqual(ws().frames()[0].resume, [[1, 2]]);
  });

  test('a hello that is not answered in time counts as a failed attempt', async () => {
    const { conn, ws, timers, sockets } = setup();
    conn.start();
    ws().open();
    await timers.advance(HANDSHAKE_TIMEOUT_MS);
    assert.equal(conn.status, 'offline');
    assert.ok(sockets[0].closed, 'the stuck socket is closed');
    assert.equal(conn.lastClose.code, 4998);
  });

  test('not_authenticated on hello ends in "expired" with no reconnection', async () => {
    const { conn, ws, timers, sockets } = setup();
    const expired = [];
    conn.on('expired', (e) => expired.push(e));
    conn.start();
    ws().open();
    ws().push({ op: 'error', rid: 1, code: 'not_authenticated', message: 'log in first' });
    await flush();
    ws().serverClose(4001, 'not authenticated'); // late close of an abandoned socket: ignored
    assert.equal(conn.status, 'expired');
    assert.equal(expired.length, 1);
    await timers.advance(10 * 60_000);
    assert.equal(sockets.length, 1, 'no reconnection while expired');
  });
});

describe('requests and pushes', () => {
  test('replies are matched by rid, in any order', async () => {
    const { conn, ws, online } = setup();
    conn.start();
    await online();
    const a = conn.request('history', { ch: 1 });
    const b = conn.request('browse', {});
    const [fa, fb] = ws().frames().slice(1);
    assert.deepEqual(fa, { op: 'history', rid: 2, ch: 1 });
    assert.deepEqual(fb, { op: 'browse', rid: 3 });
    ws().push({ op: 'ok', rid: 3, channels: [] });
    ws().push({ op: 'ok', rid: 2, ch: 1, messages: [], more: false });
    assert.deepEqual(await b, { op: 'ok', rid: 3, channels: [] });
    assert.equal((await a).ch, 1);
  });

  test('an error reply rejects with its code, retry flag and existing channel', async () => {
    const { conn, ws, online } = setup();
    conn.start();
    await online();
    const p = conn.request('channel.create', { name: 'ops' });
    ws().push({ op: 'error', rid: 2, code: 'name_taken', message: 'taken', existing: 44 });
    await assert.rejects(p, (err) => {
      assert.ok(err instanceof RequestError);
      assert.equal(err.code, 'name_taken');
      assert.equal(err.existing, 44);
      assert.equal(err.transient, false);
      return true;
    });
    const q = conn.request('send', { ch: 1, cid: new Uint8Array(16), body: 'x' });
    ws().push({ op: 'error', rid: 3, code: 'unavailable', message: 'db down', retry: true });
    await assert.rejects(q, (err) => err.code === 'unavailable' && err.transient);
  });

  test('a request while not online fails at once with "offline"', async () => {
    const { conn, ws } = setup();
    await assert.rejects(conn.request('channels'), (e) => e.code === 'offline' && e.transient);
    conn.start();
    ws().open(); // hello not answered yet
    await assert.rejects(conn.request('channels'), (e) => e.code === 'offline');
    assert.equal(ws().sent.length, 1, 'only the hello went out');
  });

  test('a request without a reply times out, and a late reply is ignored', async () => {
    const { conn, ws, timers, online } = setup();
    conn.start();
    await online();
    const p = conn.request('members', { ch: 1 }, { timeoutMs: 5000 });
    const warnings = [];
    conn.on('warning', (w) => warnings.push(w.message));
    await timers.advance(5000);
    await assert.rejects(p, (e) => e.code === 'timeout');
    ws().push({ op: 'ok', rid: 2, ch: 1, members: [] });
    assert.match(warnings[0], /unknown rid 2/);
    assert.equal(conn.status, 'online');
  });

  test('pushes are emitted as "push" and under their op; unknown ops too', async () => {
    const { conn, ws, online } = setup();
    conn.start();
    await online();
    const seen = [];
    conn.on('push', (f) => seen.push(`push:${f.op}`));
    conn.on('msg', (f) => seen.push(`msg:${f.seq}`));
    ws().push({ op: 'msg', ch: 1, seq: 5, body: 'hi' });
    ws().push({ op: 'future.thing', x: 1 });
    assert.deepEqual(seen, ['push:msg', 'msg:5', 'push:future.thing']);
  });

  test('bad frames are reported and skipped; the connection stays up', async () => {
    const { conn, ws, online } = setup();
    conn.start();
    await online();
    const warnings = [];
    conn.on('warning', (w) => warnings.push(w.message));
    const msgs = [];
    conn.on('msg', (f) => msgs.push(f));
    ws().pushRaw(new Uint8Array([0xff]).buffer);
    ws().pushRaw('text frame');
    ws().pushRaw(encode([1, 2]).buffer);
    ws().pushRaw(encode({ op: 'msg', ch: 1, seq: 2n ** 60n }).buffer);
    ws().push({ op: 'error', code: 'bad_frame', message: 'no rid' });
    ws().push({ op: 'msg', ch: 1, seq: 1 });
    assert.equal(warnings.length, 5);
    assert.match(warnings[3], /beyond 2\^53/);
    assert.match(warnings[4], /bad_frame/);
    assert.equal(msgs.length, 1);
    assert.equal(conn.status, 'online');
  });

  test('isSafeFrame refuses a BigInt at any depth', () => {
    assert.equal(isSafeFrame({ op: 'ok', a: [1, { b: 2.5 }], c: new Uint8Array(3) }), true);
    assert.equal(isSafeFrame({ op: 'ok', a: [1, { b: 5n }] }), false);
  });
});

describe('reconnection', () => {
  test('a lost connection rejects pending requests and retries with growing backoff', async () => {
    const { conn, ws, timers, sockets, online, statuses } = setup({ random: () => 1 });
    conn.start();
    await online();
    const p = conn.request('channels');
    ws().serverClose(1006);
    await assert.rejects(p, (e) => e.code === 'disconnected');
    assert.equal(conn.status, 'offline');
    assert.equal(conn.retryAt - timers.now(), 500);
    assert.equal(conn.retryInSecs(), 1);
    // Attempts that fail before hello: 0.5 s, 1 s, 2 s, 4 s…
    const waits = [];
    for (let i = 0; i < 7; i++) {
      waits.push(timers.nextIn());
      await timers.advance(timers.nextIn());
      assert.equal(conn.status, 'connecting');
      ws().serverClose(1006);
    }
    assert.deepEqual(waits, [500, 1000, 2000, 4000, 8000, 16000, 30000]);
    assert.equal(conn.retryInSecs(), 30);
    assert.equal(sockets.length, 8);
    // A successful hello resets the backoff.
    await timers.advance(30000);
    await online();
    ws().serverClose(1001, 'going away');
    assert.equal(timers.nextIn(), 500);
    assert.equal(statuses[0], 'connecting');
    assert.ok(statuses.includes('offline'));
  });

  test('4008 slow consumer reconnects at once', async () => {
    const { conn, ws, timers, sockets, online } = setup();
    conn.start();
    await online();
    ws().serverClose(4008, 'slow consumer');
    assert.equal(timers.nextIn(), 0);
    await timers.advance(0);
    assert.equal(sockets.length, 2);
    assert.equal(conn.status, 'connecting');
  });

  test('4400 and 4003 are not retried in a loop', async () => {
    const { conn, ws, timers, online } = setup();
    conn.start();
    await online();
    ws().serverClose(4400, 'protocol error');
    assert.equal(conn.status, 'failed');
    assert.equal(timers.nextIn(), BACKOFF_MAX_MS);
  });

  test('session.expired then close 4001: "expired", once; reconnectNow resumes', async () => {
    const { conn, ws, timers, sockets, online } = setup();
    const expired = [];
    conn.on('expired', (e) => expired.push(e.reason));
    conn.start();
    await online();
    ws().push({ op: 'session.expired', reason: 'logged out' });
    ws().serverClose(4001, 'session expired');
    assert.equal(conn.status, 'expired');
    assert.deepEqual(expired, ['logged out']);
    await timers.advance(120_000);
    assert.equal(sockets.length, 1);
    conn.reconnectNow();
    assert.equal(sockets.length, 2);
    await online();
    assert.equal(conn.status, 'online');
  });

  test('a close 4001 without a push also means expired', async () => {
    const { conn, ws, online } = setup();
    conn.start();
    await online();
    ws().serverClose(4001, 'session expired');
    assert.equal(conn.status, 'expired');
  });

  test('events of an abandoned socket are ignored', async () => {
    const { conn, sockets, ws, timers, online } = setup();
    conn.start();
    await online();
    const old = sockets[0];
    old.serverClose(1006);
    await timers.advance(timers.nextIn());
    await online();
    const msgs = [];
    conn.on('msg', (m) => msgs.push(m));
    old.push({ op: 'msg', ch: 1, seq: 1 });
    old.serverClose(1006);
    assert.equal(conn.status, 'online');
    assert.equal(msgs.length, 0);
    ws().push({ op: 'msg', ch: 1, seq: 1 });
    assert.equal(msgs.length, 1);
  });

  test('reconnectNow skips the wait; stop() ends everything', async () => {
    const { conn, ws, timers, sockets, online } = setup();
    conn.start();
    await online();
    ws().serverClose(1006);
    conn.reconnectNow();
    assert.equal(sockets.length, 2);
    conn.reconnectNow(); // already connecting: no third socket
    assert.equal(sockets.length, 2);
    conn.stop();
    assert.equal(conn.status, 'stopped');
    assert.ok(sockets[1].closed);
    await timers.advance(60_000);
    assert.equal(sockets.length, 2);
  });

  test('a socket constructor that throws is a failed attempt, not a crash', async () => {
    const timers = new FakeTimers();
    let n = 0;
    const conn = new Connection({
      url: 'bogus',
      createSocket: () => {
        n++;
        throw new Error('SyntaxError: bad url');
      },
      timers,
      random: () => 0,
    });
    conn.start();
    assert.equal(conn.status, 'offline');
    await timers.advance(250);
    assert.equal(n, 2);
  });
});

describe('liveness (PROTOCOL.md §11)', () => {
  test('idle for heartbeat_ms → ping; no frame for another heartbeat_ms → reconnect', async () => {
    const { conn, ws, timers, sockets, online } = setup();
    conn.start();
    await online({ heartbeat_ms: 10000 });
    await timers.advance(9999);
    assert.equal(ws().sent.length, 1, 'no ping before heartbeat_ms of silence');
    await timers.advance(1);
    assert.deepEqual(ws().last(), { op: 'ping', rid: 2 });
    // Any frame is an answer: the connection lives on.
    ws().push({ op: 'msg', ch: 1, seq: 1 });
    await timers.advance(9000);
    assert.equal(conn.status, 'online');
    assert.equal(ws().sent.length, 2, 'traffic postpones the next ping');
    await timers.advance(1000);
    assert.deepEqual(ws().last(), { op: 'ping', rid: 3 });
    await timers.advance(9999);
    assert.equal(conn.status, 'online');
    await timers.advance(1);
    assert.equal(conn.status, 'offline');
    assert.equal(conn.lastClose.code, 4997);
    assert.ok(sockets[0].closed);
  });

  test('the server-announced heartbeat is used', async () => {
    const { conn, ws, timers, online } = setup();
    conn.start();
    await online({ heartbeat_ms: 3000 });
    await timers.advance(3000);
    assert.equal(ws().last().op, 'ping');
  });
});

describe('test hooks', () => {
  test('debugGoOffline keeps the client offline until debugGoOnline', async () => {
    const { conn, timers, sockets, online } = setup();
    conn.start();
    await online();
    conn.debugGoOffline();
    assert.equal(conn.status, 'offline');
    await timers.advance(120_000);
    assert.equal(sockets.length, 1, 'no socket opened while held offline');
    assert.equal(conn.status, 'offline');
    conn.debugGoOnline();
    assert.equal(sockets.length, 2);
    await online();
    assert.equal(conn.status, 'online');
  });

  test('debugCutAfterNextSend drops the socket right after the frame left', async () => {
    const { conn, ws, sockets, online } = setup();
    conn.start();
    await online();
    conn.debugCutAfterNextSend();
    const p = conn.request('send', { ch: 1, cid: new Uint8Array(16), body: 'x' });
    await assert.rejects(p, (e) => e.code === 'disconnected');
    assert.equal(sockets[0].frames()[1].op, 'send', 'the frame was sent before the cut');
    assert.ok(sockets[0].closed);
    assert.equal(conn.status, 'offline');
    void ws;
  });
});

describe('server messages carrying several frames', () => {
  test('every frame of a CBOR sequence is handled, in order', async () => {
    const { conn, ws, online } = setup();
    conn.start();
    await online();
    const seen = [];
    conn.on('msg', (f) => seen.push(f.seq));
    const a = encode({ op: 'msg', ch: 1, seq: 7, id: 70, ts: 1, user: 2, name: 'b', display: 'B', body: 'x', cid: new Uint8Array(16) });
    const b = encode({ op: 'caughtup', ch: 1, seq: 7 });
    const c = encode({ op: 'msg', ch: 1, seq: 8, id: 80, ts: 2, user: 2, name: 'b', display: 'B', body: 'y', cid: new Uint8Array(16) });
    const joined = new Uint8Array(a.length + b.length + c.length);
    joined.set(a, 0);
    joined.set(b, a.length);
    joined.set(c, a.length + b.length);
    const caught = [];
    conn.on('caughtup', (f) => caught.push(f.seq));
    ws().pushRaw(joined);
    await flush();
    assert.deepEqual(seen, [7, 8]);
    assert.deepEqual(caught, [7]);
  });

  test('a message cut inside a frame is refused whole', async () => {
    const { conn, ws, online } = setup();
    conn.start();
    await online();
    const seen = [];
    const warnings = [];
    conn.on('msg', (f) => seen.push(f.seq));
    conn.on('warning', (w) => warnings.push(w.message));
    const a = encode({ op: 'caughtup', ch: 1, seq: 3 });
    const cut = new Uint8Array(a.length * 2 - 1);
    cut.set(a, 0);
    cut.set(a.subarray(0, a.length - 1), a.length);
    ws().pushRaw(cut);
    await flush();
    assert.deepEqual(seen, []);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /undecodable/);
  });
});
