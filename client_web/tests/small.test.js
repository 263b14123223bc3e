// Unread counts and title, drafts, storage, the sidebar sections and the switcher ranking.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { badgeText, mentionsOf, pageTitle, unreadOf, unreadTotals } from '../js/model/unread.js';
import { Drafts } from '../js/model/drafts.js';
import { Store } from '../js/model/storage.js';
import { fold, matchScore, rankForSwitcher, sidebarSections, sortByName, touchRecent, RECENT_MAX } from '../js/model/channel-list.js';
import { FakeStorage } from './helpers.js';

describe('unread and title', () => {
  test('unread is the counted messages, never negative; muted channels stay out of the total', () => {
    assert.equal(unreadOf({ unread: 3, lastSeq: 10, readSeq: 0 }), 3, 'not last_seq − read_seq: seqs are positions');
    assert.equal(unreadOf({ unread: -1 }), 0);
    assert.equal(mentionsOf({ mentions: 2 }), 2);
    assert.deepEqual(unreadTotals([{ unread: 6, mentions: 1 }, { unread: 0, mentions: 0 }, { unread: 4, mentions: 2, muted: true }]),
      { messages: 6, mentions: 3, channels: 2 });
  });

  test('title carries the count and the channel', () => {
    assert.equal(pageTitle(0, 'general'), '#general · chatd');
    assert.equal(pageTitle(3, 'general'), '(3) #general · chatd');
    assert.equal(pageTitle(1, 'Bob', 'chatd', true), '(1) Bob · chatd', 'a conversation has no "#"');
    assert.equal(pageTitle(250, null), '(99+) chatd');
    assert.equal(badgeText(99), '99');
    assert.equal(badgeText(100), '99+');
  });
});

describe('storage and drafts', () => {
  test('drafts per channel, per user, across a reload', () => {
    const backend = new FakeStorage();
    const d = new Drafts(new Store(backend, 'chatd:v1:u7:'));
    d.set(1, 'half a thought');
    d.set(2, 'другой черновик 🙂');
    const again = new Drafts(new Store(backend, 'chatd:v1:u7:'));
    assert.equal(again.get(1), 'half a thought');
    assert.equal(again.get(2), 'другой черновик 🙂');
    assert.equal(new Drafts(new Store(backend, 'chatd:v1:u8:')).get(1), '', "another user's drafts are separate");
    assert.deepEqual(again.channels().sort(), [1, 2]);
    again.set(1, '   ');
    assert.equal(again.get(1), '');
    again.clear(2);
    assert.equal(backend.map.size, 0);
  });

  test('a store survives broken storage: bad JSON, quota, missing backend', () => {
    const backend = new FakeStorage();
    backend.setItem('p:x', '{broken');
    const s = new Store(backend, 'p:');
    assert.equal(s.get('x', 'fallback'), 'fallback');
    backend.failWrites = true;
    assert.equal(s.set('y', 1), false);
    const mem = new Store(null, 'p:');
    assert.equal(mem.set('z', [1]), true);
    assert.deepEqual(mem.get('z'), [1]);
  });
});

const chans = (names) => names.map((name, i) => ({ id: i + 1, name, lastSeq: 0, readSeq: 0 }));

describe('channel list', () => {
  test('fold matches across case, accents and width', () => {
    assert.equal(fold('Café'), 'cafe');
    assert.equal(fold('ＡＢＣ'), 'abc');
    assert.equal(matchScore('Café-Talk', 'cafe'), 1);
    assert.equal(matchScore('general', 'general'), 0);
    assert.equal(matchScore('dev-ops', 'ops'), 2);
    assert.equal(matchScore('devops', 'ops'), 3);
    assert.equal(matchScore('random', 'rdm'), 4);
    assert.equal(matchScore('random', 'xyz'), -1);
    assert.equal(matchScore('general', '#gen'), 1);
  });

  test('sorted as people read: case-insensitive, numbers by value', () => {
    assert.deepEqual(sortByName(chans(['b', 'A', 'team-10', 'team-2'])).map((c) => c.name), ['A', 'b', 'team-2', 'team-10']);
  });

  test('few channels: favourites, then channels; each once', () => {
    const cs = chans(['general', 'random', 'ops']);
    const s = sidebarSections({ channels: cs, favourites: new Set([2]), recent: [3, 1] });
    assert.deepEqual(s.map((x) => [x.id, x.items.map((c) => c.name)]), [
      ['favourites', ['random']],
      ['channels', ['general', 'ops']],
    ]);
  });

  test('many channels: a recent section, without favourites, at most RECENT_MAX', () => {
    const cs = chans(Array.from({ length: 120 }, (_, i) => `chan-${String(i).padStart(3, '0')}`));
    const recent = [50, 7, 3, 99, 42, 11, 12, 13];
    const s = sidebarSections({ channels: cs, favourites: new Set([7]), recent });
    const byId = Object.fromEntries(s.map((x) => [x.id, x.items.map((c) => c.id)]));
    assert.deepEqual(byId.favourites, [7]);
    assert.deepEqual(byId.recent, [50, 3, 99, 42, 11].slice(0, RECENT_MAX));
    assert.equal(byId.channels.length, 120 - 1 - RECENT_MAX);
    const all = [...byId.favourites, ...byId.recent, ...byId.channels];
    assert.equal(new Set(all).size, 120, 'every channel exactly once');
  });

  test('a filter gives one section, best matches first; subsequences are left out', () => {
    const cs = chans(['frontend', 'ops', 'dev-ops', 'devops', 'opsec', 'random']);
    const s = sidebarSections({ channels: cs, favourites: new Set(), recent: [], filter: 'ops' });
    assert.deepEqual(s.map((x) => x.id), ['matches']);
    assert.deepEqual(s[0].items.map((c) => c.name), ['ops', 'opsec', 'dev-ops', 'devops']);
    assert.deepEqual(sidebarSections({ channels: cs, favourites: new Set(), recent: [], filter: 'zzz' }), []);
  });

  test('conversations have their own section, after the channels', () => {
    const cs = [...chans(['general', 'ops']), { id: 9, name: 'Bob', dm: [{ id: 2, name: 'bob', display: 'Bob' }] }];
    const s = sidebarSections({ channels: cs, favourites: new Set(), recent: [] });
    assert.deepEqual(s.map((x) => [x.id, x.items.map((c) => c.name)]), [['channels', ['general', 'ops']], ['dms', ['Bob']]]);
  });

  test('switcher: recent first without a query; best match, then recency, with one', () => {
    const cs = chans(['alpha', 'beta', 'gamma', 'alphabet']);
    cs[2].unread = 5; // gamma has unread
    assert.deepEqual(rankForSwitcher(cs, '', [2]).map((c) => c.name), ['beta', 'gamma', 'alpha', 'alphabet']);
    assert.deepEqual(rankForSwitcher(cs, 'alp', [4]).map((c) => c.name), ['alphabet', 'alpha']);
    assert.deepEqual(rankForSwitcher(cs, 'alpha', [4]).map((c) => c.name), ['alpha', 'alphabet']);
    assert.deepEqual(rankForSwitcher(cs, 'gma', []).map((c) => c.name), ['gamma']);
  });

  test('touchRecent keeps most recent first, without duplicates', () => {
    assert.deepEqual(touchRecent([3, 2, 1], 2), [2, 3, 1]);
    assert.deepEqual(touchRecent([1, 2, 3], 4, 3), [4, 1, 2]);
  });
});

test('isBlank follows the protocol White_Space set, not JavaScript trim()', async () => {
  const { isBlank, WHITE_SPACE } = await import('../js/lib/text.js');
  assert.equal(isBlank(''), true);
  assert.equal(isBlank(' \t\n\u3000'), true);
  assert.equal(isBlank('\u0085'), true); // trim() keeps it; the server refuses it as empty_body
  assert.equal(isBlank('\ufeff'), false); // trim() strips it; the server accepts it
  assert.equal(isBlank('\u200b'), false);
  assert.equal(isBlank('\u001c\u001d\u001e\u001f'), false);
  assert.equal(isBlank(' a '), false);
  assert.equal([...WHITE_SPACE].length, 25);
});
