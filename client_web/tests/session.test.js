// The page's session (who I am, limits, clock), preferences, and others' presence.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { Session } from '../js/model/session.js';
import { Prefs, loadTheme, nextTheme, saveTheme } from '../js/model/prefs.js';
import { Presence } from '../js/model/presence.js';
import { Store } from '../js/model/storage.js';
import { FakeStorage, helloOk } from './helpers.js';

describe('session', () => {
  test('the first hello makes the per-user state; later ones update it; another user is refused', () => {
    const backend = new FakeStorage();
    const s = new Session(backend);
    assert.equal(s.myId, null);
    assert.equal(s.hello(helloOk(1, { limits: { body_bytes: 100 } }), 1_700_000_000_000 - 500), 'first');
    assert.equal(s.myId, 7);
    assert.equal(s.store.prefix, 'chatd:v1:u7:');
    assert.ok(s.outbox && s.drafts && s.prefs);
    assert.deepEqual(s.limits, { body_bytes: 100, frame_bytes: 65536 });
    assert.equal(s.clockOffsetMs, 500);
    assert.equal(s.serverNow(1000), 1500);
    const outbox = s.outbox;
    assert.equal(s.hello(helloOk(1, { user: { id: 7, name: 'alice', display: 'Alice B.' } })), 'again');
    assert.equal(s.outbox, outbox, 'the outbox lives on across reconnections');
    assert.equal(s.me.display, 'Alice B.');
    assert.equal(s.hello(helloOk(1, { user: { id: 8, name: 'mallory', display: 'M' } })), 'other-user');
    assert.equal(s.myId, 7);
  });
});

describe('preferences', () => {
  test('favourites, recent and the last channel survive a reload, per user', () => {
    const backend = new FakeStorage();
    const p = new Prefs(new Store(backend, 'chatd:v1:u7:'));
    assert.equal(p.lastOpened(), null);
    assert.equal(p.toggleFavourite(3), true);
    p.opened(5);
    p.opened(3);
    const again = new Prefs(new Store(backend, 'chatd:v1:u7:'));
    assert.equal(again.isFavourite(3), true);
    assert.deepEqual(again.recent, [3, 5]);
    assert.equal(again.lastOpened(), 3);
    assert.equal(again.toggleFavourite(3), false);
    assert.equal(new Prefs(new Store(backend, 'chatd:v1:u8:')).isFavourite(3), false);
  });

  test('theme: auto unless stored, cycles auto → light → dark, survives broken storage', () => {
    const backend = new FakeStorage();
    assert.equal(loadTheme(backend), 'auto');
    assert.equal(saveTheme(backend, nextTheme('auto')), true);
    assert.equal(loadTheme(backend), 'light');
    assert.equal(nextTheme('light'), 'dark');
    assert.equal(nextTheme('dark'), 'auto');
    backend.setItem('chatd:theme', 'neon');
    assert.equal(loadTheme(backend), 'auto');
    backend.failWrites = true;
    assert.equal(saveTheme(backend, 'dark'), false);
    assert.equal(loadTheme(null), 'auto');
    assert.equal(saveTheme(null, 'dark'), false);
  });
});

describe("others' presence", () => {
  test('from a members reply at once, then from pushes; unknown reads as offline', () => {
    const presence = new Presence();
    let changes = 0;
    presence.on('change', () => changes++);
    presence.setMany([[1, 'online'], [2, 'away'], [3, undefined], ['x', 'online']]);
    assert.equal(changes, 1);
    assert.deepEqual([presence.of(1), presence.of(2), presence.of(3)], ['online', 'away', 'offline']);
    presence.set(1, 'offline');
    assert.equal(presence.of(1), 'offline');
    presence.set(2, 42);
    assert.equal(changes, 2);
  });
});
