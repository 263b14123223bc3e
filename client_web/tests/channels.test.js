// The channel records, their unread counts and read markers (model/channels.js,
// model/read-markers.js), without a page or a connection.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { Channels } from '../js/model/channels.js';
import { ReadMarkers, READ_DEBOUNCE_MS } from '../js/model/read-markers.js';
import { unreadOf } from '../js/model/unread.js';
import { FakeTimers } from './helpers.js';

const ME = 7;
const OTHER = 8;

function channel(id, extra = {}) {
  return { id, name: `c${id}`, description: '', private: false, role: 'member', last_seq: 0, read_seq: 0, ...extra };
}

function msg(ch, seq, user = OTHER) {
  const cid = new Uint8Array(16);
  cid[0] = seq;
  cid[1] = user;
  return { ch, seq, id: 1000 + seq, ts: 1_700_000_000_000 + seq, user, name: `u${user}`, display: `U${user}`, body: `m${seq}`, cid };
}

/** Channels with a loaded, empty log for each of `records`, and the events they emit. */
function setup(...records) {
  const channels = new Channels();
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
  test('upsert keeps counts moving forward only, and makes a log', () => {
    const { channels, events } = setup();
    channels.upsert(channel(1, { last_seq: 10, read_seq: 4 }));
    channels.upsert(channel(1, { name: 'renamed', last_seq: 8, read_seq: 2 }));
    const c = channels.get(1);
    assert.equal(c.name, 'renamed');
    assert.deepEqual([c.lastSeq, c.readSeq], [10, 4]);
    assert.ok(channels.log(1));
    assert.deepEqual(events, [['change', { ch: 1 }], ['change', { ch: 1 }]]);
    channels.upsert({ id: 'x' });
    assert.equal(channels.list().length, 1, 'a malformed channel is ignored');
  });

  test("hello's list replaces mine: last seq as it says, read marker never backwards, missing ones removed", () => {
    const { channels, events } = setup(channel(1, { last_seq: 20, read_seq: 15 }), channel(2));
    channels.replaceAll([channel(1, { last_seq: 18, read_seq: 12 }), channel(3, { last_seq: 5 })]);
    assert.deepEqual([channels.get(1).lastSeq, channels.get(1).readSeq], [18, 15]);
    assert.equal(channels.has(2), false);
    assert.equal(channels.log(2), undefined);
    assert.ok(events.some(([type, e]) => type === 'removed' && e.ch === 2));
    assert.deepEqual(channels.list().map((c) => c.id).sort(), [1, 3]);
  });

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

  test("others' messages count as unread once; replays are not counted again", () => {
    const { channels } = setup(channel(1, { last_seq: 2, read_seq: 2 }));
    assert.deepEqual(channels.addMessage(msg(1, 3), ME), { result: 'gap', isNew: true, own: false });
    assert.deepEqual(channels.addMessage(msg(1, 3), ME), { result: 'duplicate', isNew: false, own: false });
    assert.equal(unreadOf(channels.get(1)), 1);
    assert.equal(channels.addMessage(msg(99, 1), ME), null, 'not a channel of mine');
  });

  test('resync: the last seq moves, the log starts over', () => {
    const { channels } = setup(channel(1, { last_seq: 2 }));
    channels.addMessage(msg(1, 1), ME);
    channels.resync(1, 400);
    assert.equal(channels.get(1).lastSeq, 400);
    assert.equal(channels.log(1).state, 'empty');
    assert.deepEqual(channels.resumeEntries(), []);
  });

  test('resume: [ch, tail] of every loaded log', () => {
    const { channels } = setup(channel(1), channel(2));
    channels.addMessage(msg(1, 1), ME);
    channels.addMessage(msg(1, 2), ME);
    channels.log(2).reset();
    assert.deepEqual(channels.resumeEntries(), [[1, 2]]);
  });
});

describe('read markers to the server', () => {
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
    for (const seq of [6, 7, 8]) channels.addMessage(msg(1, seq, ME), ME);
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
    channels.addMessage(msg(1, 6, ME), ME);
    assert.equal(unreadOf(channels.get(1)), 0);
    await timers.advance(READ_DEBOUNCE_MS);
    assert.deepEqual(sent, [[1, 6]]);
  });

  test("not past others' messages I have not read", () => {
    const { channels } = setup(channel(1, { last_seq: 5, read_seq: 5 }));
    channels.addMessage(msg(1, 6), ME);
    channels.addMessage(msg(1, 7, ME), ME);
    assert.equal(channels.get(1).readSeq, 5);
    assert.equal(unreadOf(channels.get(1)), 2);
  });

  test("the server's unread count leaves out my messages past the marker: so does mine", () => {
    const { channels } = setup();
    // 130 messages of mine after the marker (sent from another device), then one from someone else.
    channels.replaceAll([channel(1, { last_seq: 133, read_seq: 3, unread: 0 }), channel(2, { last_seq: 140, read_seq: 3, unread: 1 })]);
    assert.equal(unreadOf(channels.get(1)), 0);
    assert.equal(unreadOf(channels.get(2)), 1);
    channels.upsert(channel(1, { last_seq: 150, read_seq: 3, unread: 4 })); // channel.updated
    assert.equal(unreadOf(channels.get(1)), 4);
    channels.upsert(channel(3, { last_seq: 10, read_seq: 2 })); // no unread field: as before
    assert.equal(unreadOf(channels.get(3)), 8);
  });
});
