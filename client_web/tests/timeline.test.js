// Date separators, grouping and delivery status in the message view.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { buildTimeline, dayKey, dayLabel, timeLabel, GROUP_WINDOW_MS } from '../js/model/timeline.js';

const ctx = (now) => ({ me: { id: 7, name: 'alice', display: 'Alice' }, now, locale: 'en-GB', timeZone: 'UTC' });
const T0 = Date.UTC(2025, 2, 3, 9, 0, 0); // Monday 3 March 2025, 09:00 UTC
let n = 0;
function m(user, ts, extra = {}) {
  n++;
  return { ch: 1, seq: n, id: n, ts, user, name: `u${user}`, display: `User ${user}`, body: `b${n}`, cid: n.toString(16).padStart(32, '0'), ...extra };
}

describe('day labels', () => {
  test('today, yesterday, weekday this year, with year before', () => {
    const now = T0 + 3600_000;
    const o = { locale: 'en-GB', timeZone: 'UTC' };
    assert.equal(dayLabel(T0, now, o), 'Today');
    assert.equal(dayLabel(T0 - 86_400_000, now, o), 'Yesterday');
    assert.equal(dayLabel(T0 - 2 * 86_400_000, now, o), 'Saturday 1 March');
    assert.match(dayLabel(Date.UTC(2024, 11, 31, 12), now, o), /^Tuesday,? 31 December 2024$/);
  });

  test('days follow the time zone, not UTC', () => {
    const late = Date.UTC(2025, 2, 3, 23, 30);
    assert.equal(dayKey(late, 'UTC'), '2025-03-03');
    assert.equal(dayKey(late, 'Europe/Berlin'), '2025-03-04');
    assert.equal(dayKey(late, 'America/New_York'), '2025-03-03');
  });

  test('yesterday across a month and a year boundary', () => {
    const o = { locale: 'en-GB', timeZone: 'UTC' };
    assert.equal(dayLabel(Date.UTC(2024, 11, 31, 23), Date.UTC(2025, 0, 1, 1), o), 'Yesterday');
    assert.equal(dayLabel(Date.UTC(2024, 1, 29, 5), Date.UTC(2024, 2, 1, 1), o), 'Yesterday');
  });

  test('time label', () => {
    assert.equal(timeLabel(T0 + 5 * 60_000, { locale: 'en-GB', timeZone: 'UTC' }), '9:05');
  assert.equal(timeLabel(T0 + 5 * 60_000 + 12 * 3600_000, { locale: 'en-US', timeZone: 'UTC' }), '9:05 PM');
  });
});

describe('buildTimeline', () => {
  test('a separator per day, and consecutive messages of one author grouped', () => {
    const msgs = [
      m(1, T0 - 86_400_000),
      m(1, T0),
      m(1, T0 + 60_000),
      m(2, T0 + 120_000),
      m(1, T0 + 180_000),
      m(1, T0 + 180_000 + GROUP_WINDOW_MS), // exactly the window apart: a new group
    ];
    const items = buildTimeline(msgs, [], ctx(T0 + 3600_000));
    assert.deepEqual(
      items.map((i) => (i.kind === 'day' ? `[${i.label}]` : `${i.msg.user}${i.grouped ? '+' : ''}`)),
      ['[Yesterday]', '1', '[Today]', '1', '1+', '2', '1', '1'],
    );
  });

  test('a display-name change starts a new group', () => {
    const items = buildTimeline([m(1, T0), m(1, T0 + 1000, { display: 'Renamed' })], [], ctx(T0));
    assert.deepEqual(items.filter((i) => i.kind === 'msg').map((i) => i.grouped), [false, false]);
  });

  test('own messages: committed = sent; outbox entries follow with their status', () => {
    const mine = m(7, T0);
    const entries = [
      { cid: 'a'.repeat(32), ch: 1, body: 'pending one', createdAt: T0 + 1000, status: 'pending', error: null, ack: null },
      { cid: 'b'.repeat(32), ch: 1, body: 'refused', createdAt: T0 + 2000, status: 'failed', error: { code: 'too_large', message: 'too big' }, ack: null },
      { cid: 'c'.repeat(32), ch: 1, body: 'acked', createdAt: T0 + 3000, status: 'acked', error: null, ack: { seq: 99, ts: T0 + 2500 } },
    ];
    const items = buildTimeline([mine, m(2, T0 + 500)], entries, ctx(T0)).filter((i) => i.kind === 'msg');
    assert.deepEqual(items.map((i) => [i.msg.body, i.own, i.status]), [
      [mine.body, true, 'sent'],
      ['b' + (n), false, ''],
      ['pending one', true, 'pending'],
      ['refused', true, 'failed'],
      ['acked', true, 'acked'],
    ]);
    assert.equal(items[3].error.code, 'too_large');
    assert.equal(items[4].msg.ts, T0 + 2500, 'an acked entry shows the server time');
  });

  test('an entry whose committed message is held is shown once, as the message', () => {
    const cid = 'd'.repeat(32);
    const committed = m(7, T0, { cid });
    const entry = { cid, ch: 1, body: committed.body, createdAt: T0, status: 'acked', error: null, ack: { seq: committed.seq, ts: T0 } };
    const items = buildTimeline([committed], [entry], ctx(T0)).filter((i) => i.kind === 'msg');
    assert.equal(items.length, 1);
    assert.equal(items[0].local, false);
    assert.equal(items[0].status, 'sent');
  });

  test('keys are stable from pending to committed (the element is reused)', () => {
    const cid = 'e'.repeat(32);
    const pending = buildTimeline([], [{ cid, ch: 1, body: 'x', createdAt: T0, status: 'sending', error: null, ack: null }], ctx(T0));
    const committed = buildTimeline([m(7, T0, { cid })], [], ctx(T0));
    assert.equal(pending[1].key, committed[1].key);
    assert.equal(pending[0].key, committed[0].key);
  });

  test('local entries are placed with the server clock offset', () => {
    const items = buildTimeline([], [{ cid: 'f'.repeat(32), ch: 1, body: 'x', createdAt: T0, status: 'pending', error: null, ack: null }], {
      ...ctx(T0),
      clockOffsetMs: -86_400_000,
    });
    assert.equal(items[0].label, 'Yesterday');
  });
});
