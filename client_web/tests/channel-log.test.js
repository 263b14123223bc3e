// Merging history pages, replays and live pushes: ordered by seq, no duplicates, gaps found.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { ChannelLog, isMessage, messageKey } from '../js/model/channel-log.js';
import { cidKey } from '../js/net/ids.js';

let idCounter = 1000;
/** A Message as the server sends it. */
export function msg(seq, extra = {}) {
  const cid = new Uint8Array(16);
  cid[0] = seq & 0xff;
  cid[1] = seq >> 8;
  cid[15] = extra.user ?? 1;
  return { ch: 1, seq, id: idCounter++, ts: 1_700_000_000_000 + seq * 1000, user: 1, name: 'bob', display: 'Bob', body: `m${seq}`, cid, ...extra };
}
const range = (a, b) => Array.from({ length: b - a + 1 }, (_, i) => msg(a + i));
const seqs = (log) => log.messages.map((m) => m.seq);

describe('ChannelLog', () => {
  test('latest page then live messages: ordered, deduplicated, tail follows', () => {
    const log = new ChannelLog(1);
    log.beginLoad();
    assert.deepEqual(log.setLatest(range(51, 100), true), { gap: false });
    assert.equal(log.tail, 100);
    assert.equal(log.hasOlder, true);
    assert.equal(log.addLive(msg(101)), 'added');
    assert.equal(log.addLive(msg(101)), 'duplicate');
    assert.equal(log.addLive(msg(99)), 'duplicate');
    assert.equal(log.tail, 101);
    assert.deepEqual(seqs(log), [...range(51, 101).map((m) => m.seq)]);
  });

  test('messages pushed while the latest page is on its way are merged, not lost', () => {
    const log = new ChannelLog(1);
    log.beginLoad();
    assert.equal(log.addLive(msg(11)), 'added');
    assert.equal(log.addLive(msg(12)), 'added');
    // The page was read before 11 and 12 were committed.
    log.setLatest(range(1, 10), false);
    assert.deepEqual(seqs(log), range(1, 12).map((m) => m.seq));
    assert.equal(log.tail, 12);
  });

  test('early messages that overlap the page are not duplicated', () => {
    const log = new ChannelLog(1);
    log.beginLoad();
    log.addLive(msg(10));
    log.setLatest(range(1, 10), false);
    assert.equal(log.messages.length, 10);
  });

  test('a gap is reported and filled by a history-after page', () => {
    const log = new ChannelLog(1);
    log.beginLoad();
    log.setLatest(range(1, 5), false);
    assert.equal(log.addLive(msg(9)), 'gap');
    assert.equal(log.tail, 5, 'resume must still ask from 5');
    assert.equal(log.addAfter(range(6, 7)), true, 'still missing 8');
    assert.equal(log.tail, 7);
    assert.equal(log.addAfter(range(8, 9)), false);
    assert.equal(log.tail, 9);
    assert.deepEqual(seqs(log), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  test('older pages prepend in order; more=false marks the beginning', () => {
    const log = new ChannelLog(1);
    log.beginLoad();
    log.setLatest(range(251, 300), true);
    assert.equal(log.addOlder(range(201, 250), true), 50);
    assert.equal(log.addOlder(range(151, 210), false), 50, 'overlap is deduplicated');
    assert.equal(log.hasOlder, false);
    assert.deepEqual(seqs(log), range(151, 300).map((m) => m.seq));
    assert.equal(log.tail, 300);
  });

  test('a replay after reconnect (resume) fills in exactly the missed messages', () => {
    const log = new ChannelLog(1);
    log.beginLoad();
    log.setLatest(range(1, 20), false);
    // Replay of 21..25 then live 26; the server may repeat nothing, but if it did: no dup.
    for (const m of [...range(21, 25), msg(25), msg(26)]) log.addLive(m);
    assert.deepEqual(seqs(log), range(1, 26).map((m) => m.seq));
    assert.equal(log.tail, 26);
  });

  test('out-of-order arrival still ends sorted', () => {
    const log = new ChannelLog(1);
    log.beginLoad();
    log.setLatest([], false);
    for (const s of [3, 1, 2, 5, 4]) log.addLive(msg(s));
    assert.deepEqual(seqs(log), [1, 2, 3, 4, 5]);
    assert.equal(log.tail, 5);
  });

  test('messages of another channel, malformed ones, and pushes before loading are ignored', () => {
    const log = new ChannelLog(1);
    assert.equal(log.addLive(msg(1)), 'ignored', 'not loaded: the latest page will bring it');
    log.beginLoad();
    log.setLatest([msg(1), msg(2, { ch: 2 }), { ...msg(3), seq: -1 }, { ...msg(4), cid: new Uint8Array(3) }, { ...msg(5), body: 5 }], false);
    assert.deepEqual(seqs(log), [1]);
    assert.equal(log.addLive(msg(2, { ch: 9 })), 'ignored');
    assert.equal(log.addLive(null), 'ignored');
  });

  test('isMessage accepts exactly the Message shape', () => {
    assert.equal(isMessage(msg(1)), true);
    assert.equal(isMessage({ ...msg(1), seq: 0 }), false);
    assert.equal(isMessage({ ...msg(1), ts: 1.5 }), false);
    assert.equal(isMessage({ ...msg(1), user: 2n }), false);
  });

  test('hasKey finds a held message by author and cid', () => {
    const log = new ChannelLog(1);
    log.beginLoad();
    const m = msg(1, { user: 7 });
    log.setLatest([m], false);
    assert.equal(log.hasKey(messageKey(7, cidKey(m.cid))), true);
    assert.equal(log.hasKey(messageKey(8, cidKey(m.cid))), false);
  });

  test('reset (resync) forgets everything; loadFailed goes back to empty', () => {
    const log = new ChannelLog(1);
    log.beginLoad();
    log.setLatest(range(1, 3), false);
    log.reset();
    assert.equal(log.state, 'empty');
    assert.equal(log.messages.length, 0);
    assert.equal(log.tail, 0);
    log.beginLoad();
    log.loadFailed();
    assert.equal(log.state, 'empty');
  });

  test('trimOldest bounds memory and makes older history loadable again', () => {
    const log = new ChannelLog(1);
    log.beginLoad();
    log.setLatest(range(1, 100), false);
    assert.equal(log.trimOldest(30), 70);
    assert.deepEqual(seqs(log), range(71, 100).map((m) => m.seq));
    assert.equal(log.hasOlder, true);
    assert.equal(log.tail, 100);
  });

  test('inserting 5000 messages one by one stays fast (append path)', () => {
    const log = new ChannelLog(1);
    log.beginLoad();
    log.setLatest([], false);
    const started = performance.now();
    for (let s = 1; s <= 5000; s++) log.addLive(msg(s));
    assert.equal(log.tail, 5000);
    assert.ok(performance.now() - started < 1000);
  });
});
