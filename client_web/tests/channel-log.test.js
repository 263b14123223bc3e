// Merging history pages, replays and live pushes: ordered by seq, no duplicates, the newest
// version of each message kept (PROTOCOL.md §10: seqs are stream positions; messages skip the
// positions of their changes).
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
  return { ch: 1, seq, id: idCounter++, ts: 1_700_000_000_000 + seq * 1000, user: 1, name: 'bob', display: 'Bob', body: `m${seq}`, cid, v: 1, ...extra };
}
const range = (a, b) => Array.from({ length: b - a + 1 }, (_, i) => msg(a + i));
const seqs = (log) => log.messages.map((m) => m.seq);

describe('ChannelLog', () => {
  test('latest page then live messages: ordered, deduplicated', () => {
    const log = new ChannelLog(1);
    log.beginLoad();
    log.setLatest(range(51, 100), true);
    assert.equal(log.hasOlder, true);
    assert.equal(log.addLive(msg(101)), 'added');
    assert.equal(log.addLive(msg(101)), 'duplicate');
    assert.equal(log.addLive(msg(99)), 'duplicate');
    assert.deepEqual(seqs(log), [...range(51, 101).map((m) => m.seq)]);
  });

  test('messages pushed while the latest page is on its way are merged, not lost', () => {
    const log = new ChannelLog(1);
    log.beginLoad();
    assert.equal(log.addLive(msg(11)), 'added');
    assert.equal(log.addLive(msg(13)), 'added'); // 12 is an edit's position: no message
    log.setLatest(range(1, 10), false);
    assert.deepEqual(seqs(log), [...range(1, 11).map((m) => m.seq), 13]);
  });

  test('a newer version replaces the held one; an older or equal one changes nothing', () => {
    const log = new ChannelLog(1);
    log.beginLoad();
    log.setLatest(range(1, 3), false);
    assert.equal(log.addLive({ ...msg(2), body: 'edited', v: 2, edited: 1 }, true), 'changed');
    assert.equal(log.addLive({ ...msg(2), body: 'm2', v: 1 }), 'duplicate', 'a late replay of the old version');
    assert.equal(log.addLive({ ...msg(2), body: 'edited', v: 2 }, true), 'duplicate');
    assert.deepEqual([log.find(2).body, log.find(2).v, log.find(2).edited], ['edited', 2, 1]);
    assert.equal(log.addLive({ ...msg(9), v: 3 }, true), 'ignored', 'a change to a message not held');
    assert.equal(log.holds(9), false);
  });

  test('a page read before an edit loses against the edit pushed meanwhile', () => {
    const log = new ChannelLog(1);
    log.beginLoad();
    log.addLive({ ...msg(5), body: 'new text', v: 2 }, true);
    log.setLatest(range(1, 5), false);
    assert.equal(log.find(5).body, 'new text');
  });

  test('a tombstone keeps the place and none of the content', () => {
    const log = new ChannelLog(1);
    log.beginLoad();
    log.setLatest([msg(1, { files: [{ id: 'f', name: 'x', size: 1, type: 't', kind: 'file' }], mentions: [7] })], false);
    const tomb = { ...msg(1), v: 2, deleted: true };
    delete tomb.body;
    assert.equal(isMessage(tomb), true);
    assert.equal(log.addLive(tomb, true), 'changed');
    assert.deepEqual([log.find(1).deleted, log.find(1).body, log.find(1).files, log.find(1).mentions], [true, '', [], []]);
  });

  test('older pages prepend in order; more=false marks the beginning', () => {
    const log = new ChannelLog(1);
    log.beginLoad();
    log.setLatest(range(251, 300), true);
    assert.equal(log.addOlder(range(201, 250), true), 50);
    assert.equal(log.addOlder(range(151, 210), false), 50, 'overlap is deduplicated');
    assert.equal(log.hasOlder, false);
    assert.deepEqual(seqs(log), range(151, 300).map((m) => m.seq));
  });

  test('out-of-order arrival still ends sorted', () => {
    const log = new ChannelLog(1);
    log.beginLoad();
    log.setLatest([], false);
    for (const s of [3, 1, 2, 5, 4]) log.addLive(msg(s));
    assert.deepEqual(seqs(log), [1, 2, 3, 4, 5]);
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
    const noBody = msg(1);
    delete noBody.body;
    assert.equal(isMessage(noBody), false, 'only a tombstone has no body');
  });

  test('hasKey finds a held message by author and cid', () => {
    const log = new ChannelLog(1);
    log.beginLoad();
    const m = msg(1, { user: 7 });
    log.setLatest([m], false);
    assert.equal(log.hasKey(messageKey(7, cidKey(m.cid))), true);
    assert.equal(log.hasKey(messageKey(8, cidKey(m.cid))), false);
  });

  test('updateAuthor renames the held messages of one author', () => {
    const log = new ChannelLog(1);
    log.beginLoad();
    log.setLatest([msg(1, { user: 7 }), msg(2, { user: 8 })], false);
    log.updateAuthor(7, (m) => ({ ...m, display: 'Seven' }));
    assert.deepEqual(log.messages.map((m) => m.display), ['Seven', 'Bob']);
  });

  test('reset (resync) forgets everything; loadFailed goes back to empty', () => {
    const log = new ChannelLog(1);
    log.beginLoad();
    log.setLatest(range(1, 3), false);
    log.reset();
    assert.equal(log.state, 'empty');
    assert.equal(log.messages.length, 0);
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
  });

  test('inserting 5000 messages one by one stays fast (append path)', () => {
    const log = new ChannelLog(1);
    log.beginLoad();
    log.setLatest([], false);
    const started = performance.now();
    for (let s = 1; s <= 5000; s++) log.addLive(msg(s));
    assert.equal(log.lastSeq, 5000);
    assert.ok(performance.now() - started < 1000);
  });
});
