// Mentions (what is typed, who matches, whom a text mentions, what a shown message highlights),
// notification decisions, members by presence, devices of sessions, and which messages offer
// Edit and Delete.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { insertMention, matchMembers, mentionQuery, mentionSegments, resolveMentions } from '../js/model/mentions.js';
import { notificationOf, preview, shouldNotify, PREVIEW_CHARS } from '../js/model/notify.js';
import { Members, byPresence } from '../js/model/members.js';
import { deviceOf } from '../js/model/devices.js';
import { buildTimeline } from '../js/model/timeline.js';

const PEOPLE = [
  { id: 1, name: 'alice', display: 'Alice Martin' },
  { id: 2, name: 'bob', display: 'Bob Okafor' },
  { id: 3, name: 'jose', display: 'José Núñez' },
  { id: 4, name: 'sakura', display: '佐藤 さくら' },
  { id: 5, name: 'zoe.k', display: 'Zoë' },
];

describe('mentions', () => {
  test('the @word at the caret, not an address or a word in the middle', () => {
    assert.deepEqual(mentionQuery('hi @al', 6), { start: 3, query: 'al' });
    assert.deepEqual(mentionQuery('@', 1), { start: 0, query: '' });
    assert.deepEqual(mentionQuery('(@bo', 4), { start: 1, query: 'bo' });
    assert.equal(mentionQuery('mail me@home', 12), null);
    assert.equal(mentionQuery('@al done', 8), null);
    assert.deepEqual(mentionQuery('@佐藤', 3), { start: 0, query: '佐藤' });
  });

  test('members match by username or display name, folded, any script; prefixes first', () => {
    const names = (q) => matchMembers(PEOPLE, q).map((m) => m.name);
    assert.deepEqual(names('jo'), ['jose']);
    assert.deepEqual(names('nunez'), ['jose'], 'accents ignored, a word of the display name');
    assert.deepEqual(names('さく'), ['sakura']);
    assert.deepEqual(names('zoe'), ['zoe.k']);
    assert.deepEqual(names('o').slice(0, 1), ['bob'], 'a word start beats a substring');
    assert.equal(matchMembers(PEOPLE, '').length, 5);
    const online = (id) => (id === 5 ? 'online' : 'offline');
    assert.equal(matchMembers(PEOPLE, '', 8, online)[0].name, 'zoe.k', 'online first among equals');
  });

  test('picking inserts @username and a space, replacing what was typed', () => {
    assert.deepEqual(insertMention('hi @al how', 3, 6, 'alice'), { text: 'hi @alice how', caret: 10 });
    assert.deepEqual(insertMention('@', 0, 1, 'bob'), { text: '@bob ', caret: 5 });
  });

  test('whom a text mentions: usernames any case, trailing punctuation, @channel; others ignored', () => {
    assert.deepEqual(resolveMentions('@Alice and @bob. see @nobody', PEOPLE), { mentions: [1, 2], all: false });
    assert.deepEqual(resolveMentions('@channel lunch @zoe.k!', PEOPLE), { mentions: [5], all: true });
    assert.deepEqual(resolveMentions('mail me@alice.example', PEOPLE), { mentions: [], all: false });
    assert.deepEqual(resolveMentions('@佐藤 @sakura', PEOPLE), { mentions: [4], all: false });
  });

  test('a shown message highlights only the names it mentions, mine most', () => {
    const segs = mentionSegments('@alice @bob @carol hi', [{ id: 1, name: 'alice' }, { id: 2, name: 'bob' }], false, 2);
    assert.deepEqual(segs, [
      { text: '@alice', mention: true, me: false },
      { text: ' ' },
      { text: '@bob', mention: true, me: true },
      { text: ' @carol hi' },
    ]);
    assert.deepEqual(mentionSegments('@channel now.', [], true, 2), [{ text: '@channel', mention: true, me: true }, { text: ' now.' }]);
    assert.deepEqual(mentionSegments('@channel now', [], false, 2), [{ text: '@channel now' }], 'not an @channel message');
    assert.deepEqual(mentionSegments('@bob.', [{ id: 2, name: 'bob' }], false, 1), [{ text: '@bob', mention: true, me: false }, { text: '.' }]);
  });
});

describe('notifications', () => {
  const channel = { id: 1, name: 'ops', notify: 'mentions', muted: false };
  test('only when not looking, not mine, not muted, and as the channel says', () => {
    const away = { own: false, looking: false };
    assert.equal(shouldNotify(channel, { ...away, mention: true }), true);
    assert.equal(shouldNotify(channel, { ...away, mention: false }), false, 'an ordinary message');
    assert.equal(shouldNotify(channel, { ...away, mention: true, looking: true }), false);
    assert.equal(shouldNotify(channel, { ...away, mention: true, own: true }), false);
    assert.equal(shouldNotify({ ...channel, muted: true }, { ...away, mention: true }), false);
    assert.equal(shouldNotify({ ...channel, notify: 'all' }, { ...away, mention: false }), true);
    assert.equal(shouldNotify({ ...channel, notify: 'nothing' }, { ...away, mention: true }), false);
  });

  test('what it says: channel, sender, a short preview; a conversation by the sender', () => {
    const m = { ch: 1, seq: 40, display: 'Bob', body: 'x'.repeat(300), files: [] };
    const n = notificationOf(channel, m);
    assert.equal(n.title, '#ops');
    assert.ok(n.body.startsWith('Bob: ') && [...n.body].length === 5 + PREVIEW_CHARS);
    assert.equal(n.tag, 'chatd-1-40');
    assert.equal(notificationOf({ ...channel, dm: [{ id: 2 }] }, { ...m, body: 'hi' }).title, 'Bob');
    assert.equal(preview('  a\n\nb  '), 'a b');
    assert.equal(notificationOf(channel, { ...m, body: '', files: [{ name: 'plan.pdf' }] }).body, 'Bob: 📎 plan.pdf');
  });
});

describe('members', () => {
  test('online first, then away, then offline; by name within', () => {
    const state = { 1: 'offline', 2: 'away', 3: 'online', 4: 'online', 5: 'offline' };
    assert.deepEqual(byPresence(PEOPLE, (id) => state[id]).map((m) => m.id), [3, 4, 2, 1, 5]);
  });

  test('kept current by joins, departures and renames; names of everyone seen', () => {
    const members = new Members();
    const changes = [];
    members.on('change', (e) => changes.push(e.ch));
    members.joined(9, PEOPLE[0]);
    assert.equal(members.of(9), undefined, 'a channel never loaded stays unknown');
    members.set(9, PEOPLE.slice(0, 2));
    members.joined(9, PEOPLE[2]);
    members.left(9, 1);
    members.renamed({ id: 2, name: 'bob', display: 'Bobby' });
    assert.deepEqual(members.of(9).map((m) => [m.id, m.display]), [[2, 'Bobby'], [3, 'José Núñez']]);
    assert.equal(members.names.get(1), 'alice');
    assert.deepEqual(changes, [9, 9, 9, null]);
  });
});

test('a session device from its user agent', () => {
  assert.equal(deviceOf('Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0'), 'Firefox on Linux');
  assert.equal(deviceOf('Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1'), 'Safari on iPhone');
  assert.equal(deviceOf('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36 Edg/120.0'), 'Edge on Windows');
  assert.equal(deviceOf('', 'api'), 'API token');
  assert.equal(deviceOf(''), 'Unknown device');
});

describe('edit and delete in the timeline', () => {
  const me = { id: 1, name: 'alice', display: 'Alice' };
  const now = 1_700_000_000_000;
  const m = (seq, user, ageMs, extra = {}) => ({ ch: 1, seq, id: seq, ts: now - ageMs, user, name: `u${user}`, display: `U${user}`, body: 'x', cid: `c${seq}`, files: [], v: 1, deleted: false, mentions: [], all: false, ...extra });
  const flags = (items) => items.filter((i) => i.kind === 'msg').map((i) => [i.msg.seq, i.canEdit, i.canDelete, i.mentionsMe]);

  test('my messages within the window; an owner deletes any; tombstones offer nothing', () => {
    const messages = [m(1, 1, 60_000), m(2, 1, 20 * 60_000), m(3, 2, 1000, { mentions: [1] }), m(4, 1, 1000, { deleted: true })];
    const ctx = { me, now, editWindowMs: 15 * 60_000 };
    assert.deepEqual(flags(buildTimeline(messages, [], ctx)), [[1, true, true, false], [2, false, false, false], [3, false, false, true], [4, false, false, false]]);
    assert.deepEqual(flags(buildTimeline(messages, [], { ...ctx, moderator: true })).map((f) => f[2]), [true, true, true, false]);
    assert.deepEqual(flags(buildTimeline(messages, [], { ...ctx, editWindowMs: 0 })).map((f) => f[1]), [true, true, false, false], '0: always');
    assert.deepEqual(flags(buildTimeline(messages, [], { me, now })).map((f) => f[1] || f[2]), [false, false, false, false], 'no edits feature');
  });
});
