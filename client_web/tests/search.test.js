// The search panel's model: generations (a late reply of an older search is dropped), paging,
// suggestions, the capped count, and highlights by code point.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { SearchModel, countText, hitTimeLabel, markSegments, suggestionText } from '../js/model/search.js';

const hit = (id, extra = {}) => ({ ch: 1, seq: id, id, ts: 1_700_000_000_000, user: 2, name: 'bob', display: 'Bob', snippet: `hit ${id}`, hl: [[0, 3]], ...extra });

describe('SearchModel', () => {
  test('pages append without duplicates; next and count follow the last reply', () => {
    const m = new SearchModel();
    let changes = 0;
    m.on('change', () => changes++);
    const g = m.start('deploy', 'newest');
    assert.equal(m.loading, 'first');
    assert.ok(m.received(g, { count: 1000, capped: true, results: [hit(9), hit(8)], next: 'n.1', suggestions: [] }));
    assert.deepEqual(m.results.map((r) => r.id), [9, 8]);
    assert.equal(m.hasMore, true);
    const more = m.startMore();
    assert.deepEqual(more, { generation: g, after: 'n.1' });
    assert.equal(m.startMore(), null, 'one page at a time');
    m.received(g, { count: 1000, capped: true, results: [hit(8), hit(7)] });
    assert.deepEqual(m.results.map((r) => r.id), [9, 8, 7]);
    assert.equal(m.hasMore, false);
    assert.ok(changes >= 4);
  });

  test('a reply to an older search is ignored', () => {
    const m = new SearchModel();
    const old = m.start('dep', 'relevance');
    const now = m.start('deploy', 'relevance');
    assert.equal(m.received(old, { count: 5, results: [hit(1)] }), false);
    assert.deepEqual(m.results, []);
    m.received(now, { count: 0, capped: false, results: [], suggestions: [{ kind: 'spelling', q: 'deploy', count: 3, capped: false }, { nonsense: true }] });
    assert.equal(m.searched, true);
    assert.deepEqual(m.suggestions.map((s) => s.q), ['deploy']);
    m.failed(old, 'late failure');
    assert.equal(m.error, null);
  });

  test('malformed hits are skipped, failures are kept for the view', () => {
    const m = new SearchModel();
    const g = m.start('x', 'bogus');
    assert.equal(m.order, 'relevance');
    m.received(g, { count: 2, results: [hit(1), { id: 'two' }, null], next: 'r.1' });
    assert.deepEqual(m.results.map((r) => r.id), [1]);
    const more = m.startMore();
    m.failed(more.generation, 'Search failed: offline');
    assert.equal(m.error, 'Search failed: offline');
    assert.equal(m.startMore(), null, 'no more paging after a failure until a new search');
  });
});

describe('search text', () => {
  test('counts', () => {
    assert.equal(countText(1, false, 'en'), '1 message');
    assert.equal(countText(12, false, 'en'), '12 messages');
    assert.equal(countText(1000, true, 'en'), '1,000+ messages');
  });

  test('highlights count code points: emoji before a match do not shift it', () => {
    assert.deepEqual(markSegments('😀 café 😀 cafe', [[2, 4], [9, 4]]), [
      { text: '😀 ', mark: false }, { text: 'café', mark: true }, { text: ' 😀 ', mark: false }, { text: 'cafe', mark: true },
    ]);
    assert.deepEqual(markSegments('abc', [[1, 99], [-5, 1]]), [{ text: 'a', mark: false }, { text: 'bc', mark: true }]);
    assert.deepEqual(markSegments('', [[0, 1]]), []);
    assert.deepEqual(markSegments('<b>x</b>', [[3, 1]]).map((s) => s.text).join(''), '<b>x</b>', 'text stays text');
  });

  test('suggestions and times', () => {
    assert.equal(suggestionText({ kind: 'without', removed: 'from:@bob' }), 'Without from:@bob:');
    assert.equal(suggestionText({ kind: 'spelling' }), 'Did you mean');
    const now = Date.UTC(2025, 5, 15, 12, 0);
    assert.match(hitTimeLabel(Date.UTC(2025, 5, 15, 9, 5), now, { locale: 'en-GB', timeZone: 'UTC' }), /^0?9:05$/);
    assert.match(hitTimeLabel(Date.UTC(2025, 2, 3, 9, 5), now, { locale: 'en-GB', timeZone: 'UTC' }), /^3 Mar,? 0?9:05$/);
    assert.match(hitTimeLabel(Date.UTC(2023, 2, 3, 9, 5), now, { locale: 'en-GB', timeZone: 'UTC' }), /2023/);
  });
});
