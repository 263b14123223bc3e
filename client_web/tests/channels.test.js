// The channel records: stream positions, counts as of a position plus this page's increments
// (PROTOCOL.md §10.3), read markers (model/channels.js, model/read-markers.js), without a page
// or a connection.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { Channels } from '../js/model/channels.js';
import { ReadMarkers, READ_DEBOUNCE_MS } from '../js/model/read-markers.js';
import { mentionsOf, unreadOf } from '../js/model/unread.js';
import { FakeTimers } from './helpers.js';

const ME = 7;
const OTHER = 8;

function channel(id, extra = {}) {
  return { id, name: `c${id}`, description: '', private: false, role: 'member', last_seq: 0, read_seq: 0, unread: 0, mentions: 0, ...extra };
}

/** A `msg` push. */
function msg(ch, seq, user = OTHER, extra = {}) {
  const cid = new Uint8Array(16);
  cid[0] = seq;
  cid[1] = user;
  return { op: 'msg', ch, seq, id: 1000 + seq, ts: 1_700_000_000_000 + seq, user, name: `u${user}`, display: `U${user}`, body: `m${seq}`, cid, v: 1, ...extra };
}

/** A `msg.changed` push at position `pos` of message `m` (its new version). */
function changed(pos, m, extra = {}) {
  const { op: _op, ...message } = m;
  return { op: 'msg.changed', ch: m.ch, seq: pos, message: { ...message, v: (m.v ?? 1) + 1, ...extra } };
}

/** Channels (me: ME) with a loaded, empty log for each of `records`, and the events they emit. */
function setup(...records) {
  const channels = new Channels();
  channels.me = ME;
  const events = [];
  for (const type of ['change', 'removed', 'read']) channels.on(type, (e) => events.push([type, e]));
  for (const c of records) {
    channels.upsert(c);
    channels.log(c.id).setLatest([], false);
  }
  events.length = 0;
  return { channels, events };
}

describe('channel records', () => {
  test('upsert: seqs and markers only move forward, counts as the server says, a log is made', () => {
    const { channels, events } = setup();
    channels.upsert(channel(1, { last_seq: 10, read_seq: 4, unread: 3, mentions: 1 }));
    channels.upsert(channel(1, { name: 'renamed', last_seq: 8, read_seq: 2, unread: 9 }));
    const c = channels.get(1);
    assert.equal(c.name, 'renamed');
    assert.deepEqual([c.lastSeq, c.readSeq, unreadOf(c), mentionsOf(c)], [10, 4, 3, 1], 'counts as of 8 are older than those of 10');
    assert.ok(channels.log(1));
    assert.deepEqual(events, [['change', { ch: 1 }], ['change', { ch: 1 }]]);
    channels.upsert({ id: 'x' });
    assert.equal(channels.list().length, 1, 'a malformed channel is ignored');
  });

  test("hello's list replaces mine: its counts win, read marker never backwards, missing ones removed", () => {
    const { channels, events } = setup(channel(1, { last_seq: 20, read_seq: 15, unread: 2 }), channel(2));
    channels.replaceAll([channel(1, { last_seq: 18, read_seq: 12, unread: 5 }), channel(3, { last_seq: 5 })]);
    assert.deepEqual([channels.get(1).readSeq, unreadOf(channels.get(1))], [15, 5]);
    assert.equal(channels.has(2), false);
    assert.equal(channels.log(2), undefined);
    assert.ok(events.some(([type, e]) => type === 'removed' && e.ch === 2));
    assert.deepEqual(channels.list().map((c) => c.id).sort(), [1, 3]);
  });

  test('a conversation: its people, notify "all" by default; a rename reaches its name', () => {
    const { channels } = setup();
    channels.upsert(channel(4, { name: 'Bob', private: true, dm: [{ id: OTHER, name: 'bob', display: 'Bob' }], notify: 'all', muted: false }));
    assert.deepEqual(channels.get(4).dm, [{ id: OTHER, name: 'bob', display: 'Bob' }]);
    channels.userUpdated({ id: OTHER, name: 'bob', display: 'Bobby' });
    assert.equal(channels.get(4).name, 'Bobby');
  });
});

describe('the stream: positions and counts', () => {
  test("others' messages count once; replays and changes never do", () => {
    const { channels } = setup(channel(1, { last_seq: 2, read_seq: 2 }));
    const first = channels.event(msg(1, 3));
    assert.deepEqual([first.result, first.isNew, first.gap], ['added', true, false]);
    assert.equal(channels.event(msg(1, 3)).result, 'duplicate');
    assert.equal(unreadOf(channels.get(1)), 1);
    assert.equal(channels.event(changed(4, msg(1, 3))).result, 'changed');
    assert.equal(unreadOf(channels.get(1)), 1, 'an edit is no new message');
    assert.equal(channels.event(msg(99, 1)), null, 'not a channel of mine');
  });

  test('a push beyond the next position is a gap', () => {
    const { channels } = setup(channel(1, { last_seq: 2 }));
    assert.equal(channels.event(msg(1, 3)).gap, false);
    assert.equal(channels.event(msg(1, 5)).gap, true);
  });

  test('a resumed channel replays from my position: replayed messages are not news nor counted again', () => {
    const { channels } = setup(channel(1, { last_seq: 3, read_seq: 3 }));
    channels.event(msg(1, 4));
    assert.deepEqual(channels.resumeEntries(), [[1, 4]]);
    // reconnect: hello says 7 positions, 2 unread (5 and 7; 6 is an edit of 5)
    channels.replaceAll([channel(1, { last_seq: 7, read_seq: 3, unread: 2 })]);
    const replayed = [channels.event(msg(1, 5)), channels.event(changed(6, msg(1, 5))), channels.event(msg(1, 7))];
    assert.deepEqual(replayed.map((r) => [r.isNew, r.gap]), [[false, false], [false, false], [false, false]]);
    channels.caughtUp(1, 7);
    assert.equal(unreadOf(channels.get(1)), 2);
    channels.event(msg(1, 8));
    assert.deepEqual([unreadOf(channels.get(1)), channels.event(msg(1, 9)).isNew], [3, true]);
  });

  test('fresh counts as of a position keep the increments after it, whatever the order', () => {
    const { channels } = setup(channel(1, { last_seq: 10, read_seq: 10 }));
    channels.event(msg(1, 11, OTHER, { mentions: [ME] }));
    channels.event(msg(1, 12));
    assert.deepEqual([unreadOf(channels.get(1)), mentionsOf(channels.get(1))], [2, 1]);
    // an edit at 13 took the mention back; its counts push (as of 13) arrives after 14 was counted
    channels.event(changed(13, msg(1, 11, OTHER)));
    channels.event(msg(1, 14));
    channels.counts(1, 2, 0, 13);
    assert.deepEqual([unreadOf(channels.get(1)), mentionsOf(channels.get(1))], [3, 0], '2 as of 13, plus 14');
    channels.counts(1, 9, 9, 12);
    assert.deepEqual([unreadOf(channels.get(1)), mentionsOf(channels.get(1))], [3, 0], 'counts older than held: ignored');
    // a read push as of 14 (another device read everything)
    channels.readElsewhere(1, 14, { unread: 0, mentions: 0, last_seq: 14 });
    assert.deepEqual([channels.get(1).readSeq, unreadOf(channels.get(1))], [14, 0]);
  });

  test('mentions count: by id, by @channel; never my own message', () => {
    const { channels } = setup(channel(1));
    assert.equal(channels.event(msg(1, 1, OTHER, { mentions: [ME] })).mention, true);
    assert.equal(channels.event(msg(1, 2, OTHER, { all: true })).mention, true);
    assert.equal(channels.event(msg(1, 3, OTHER, { mentions: [99] })).mention, false);
    assert.equal(channels.event(msg(1, 4, ME, { all: true })).mention, false);
    assert.equal(mentionsOf(channels.get(1)), 2);
  });

  test('resync: the position moves, the log starts over', () => {
    const { channels } = setup(channel(1, { last_seq: 2 }));
    channels.event(msg(1, 3));
    channels.resync(1, 400);
    assert.deepEqual([channels.get(1).lastSeq, channels.get(1).pos], [400, 400]);
    assert.equal(channels.log(1).state, 'empty');
    assert.deepEqual(channels.resumeEntries(), []);
  });
});

describe('read markers', () => {
  test("a read push moves the marker without telling the server; the reader's own reading does", () => {
    const { channels, events } = setup(channel(1, { last_seq: 9, read_seq: 3 }));
    channels.readElsewhere(1, 5);
    channels.readElsewhere(1, 4);
    assert.equal(channels.get(1).readSeq, 5);
    assert.equal(channels.markRead(1, 5), false);
    assert.equal(channels.markRead(1, 9), true);
    assert.deepEqual(events, [['change', { ch: 1 }], ['change', { ch: 1 }], ['read', { ch: 1, seq: 9 }]]);
    assert.equal(unreadOf(channels.get(1)), 0);
  });

  test('reading part of what is held leaves the messages after it unread (held, others\', not deleted)', () => {
    const { channels } = setup(channel(1));
    for (const seq of [1, 2, 3]) channels.event(msg(1, seq, OTHER, seq === 3 ? { mentions: [ME] } : {}));
    channels.event(msg(1, 4, ME));
    channels.markRead(1, 1);
    assert.deepEqual([unreadOf(channels.get(1)), mentionsOf(channels.get(1))], [2, 1]);
  });

  test('a burst of reads is one request per channel, with the latest seq', async () => {
    const timers = new FakeTimers();
    const { channels } = setup(channel(1, { last_seq: 10 }), channel(2, { last_seq: 4 }));
    const sent = [];
    new ReadMarkers({ channels, send: (ch, seq) => sent.push([ch, seq]), timers });
    channels.markRead(1, 3);
    channels.markRead(1, 10);
    channels.markRead(2, 4);
    assert.deepEqual(sent, []);
    await timers.advance(READ_DEBOUNCE_MS);
    assert.deepEqual(sent, [[1, 10], [2, 4]]);
    channels.readElsewhere(1, 12); // the server knows already
    await timers.advance(READ_DEBOUNCE_MS * 4);
    assert.deepEqual(sent, [[1, 10], [2, 4]]);
  });
});

describe('my own messages are never unread (first-time user bug: badge 3, "99+" after a reload)', () => {
  test("my message moves the read marker, and the server's marker follows", async () => {
    const timers = new FakeTimers();
    const { channels } = setup(channel(1, { last_seq: 5, read_seq: 5 }));
    const sent = [];
    new ReadMarkers({ channels, send: (ch, seq) => sent.push([ch, seq]), timers });
    for (const seq of [6, 7, 8]) channels.event(msg(1, seq, ME));
    assert.equal(unreadOf(channels.get(1)), 0);
    await timers.advance(READ_DEBOUNCE_MS);
    assert.deepEqual(sent, [[1, 8]], 'without it, a reload shows my 3 messages as unread');
  });

  test('also when the ack comes before the msg push', async () => {
    const timers = new FakeTimers();
    const { channels } = setup(channel(1, { last_seq: 5, read_seq: 5 }));
    const sent = [];
    new ReadMarkers({ channels, send: (ch, seq) => sent.push([ch, seq]), timers });
    channels.noteLastSeq(1, 6);
    channels.ownMessage(1, 6); // the ack of my message
    channels.event(msg(1, 6, ME));
    assert.equal(unreadOf(channels.get(1)), 0);
    await timers.advance(READ_DEBOUNCE_MS);
    assert.deepEqual(sent, [[1, 6]]);
  });

  test("not past others' messages I have not read", () => {
    const { channels } = setup(channel(1, { last_seq: 5, read_seq: 5 }));
    channels.event(msg(1, 6));
    channels.event(msg(1, 7, ME));
    assert.equal(channels.get(1).readSeq, 5);
    assert.equal(unreadOf(channels.get(1)), 1);
  });
});
