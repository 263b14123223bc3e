// Away after minutes without input, active again at the next input.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { IdleTracker, presenceLabel } from '../js/model/presence.js';
import { FakeTimers } from './helpers.js';

test('away after the idle time without input; active at the next input', async () => {
  const timers = new FakeTimers();
  const t = new IdleTracker({ timers, awayAfterMs: 60_000 });
  const seen = [];
  t.on('change', (s) => seen.push(s));
  await timers.advance(30_000);
  t.activity(); // postpones
  await timers.advance(59_000);
  assert.equal(t.state, 'active');
  await timers.advance(1_000);
  assert.equal(t.state, 'away');
  t.activity();
  t.activity();
  assert.deepEqual(seen, ['away', 'active']);
  await timers.advance(60_000);
  assert.deepEqual(seen, ['away', 'active', 'away']);
  t.stop();
  t.activity();
  assert.deepEqual(seen, ['away', 'active', 'away', 'active']);
});

test('activity while active emits nothing and costs one timestamp', async () => {
  const timers = new FakeTimers();
  const t = new IdleTracker({ timers, awayAfterMs: 1000 });
  const seen = [];
  t.on('change', (s) => seen.push(s));
  for (let i = 0; i < 100; i++) {
    await timers.advance(500);
    t.activity();
  }
  assert.deepEqual(seen, []);
  assert.equal(timers.timers.size, 1, 'one timer, re-armed lazily');
});

test('labels', () => {
  assert.equal(presenceLabel('online'), 'online');
  assert.equal(presenceLabel('away'), 'away');
  assert.equal(presenceLabel('offline'), 'offline');
  assert.equal(presenceLabel('weird'), 'offline');
});
