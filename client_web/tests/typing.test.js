// Typing notices both ways (model/typing.js), with fake timers.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { TypingNotifier, TypingState, TYPING_SEND_MS, TYPING_SHOW_MS, typingText } from '../js/model/typing.js';
import { FakeTimers } from './helpers.js';

describe("others' typing", () => {
  test('shown until it expires, or until their message arrives', async () => {
    const timers = new FakeTimers();
    const typing = new TypingState({ timers });
    const changes = [];
    typing.on('change', (e) => changes.push(e.ch));
    typing.saw(1, 8, 'Bob');
    typing.saw(1, 9, 'Carol');
    typing.saw(2, 8, 'Bob');
    assert.deepEqual(typing.names(1), ['Bob', 'Carol']);
    typing.clear(1, 9);
    assert.deepEqual(typing.names(1), ['Bob']);
    typing.clear(1, 9); // twice: no change
    assert.deepEqual(changes, [1, 1, 2, 1]);
    await timers.advance(TYPING_SHOW_MS - 1);
    assert.deepEqual(typing.names(1), ['Bob']);
    await timers.advance(100);
    assert.deepEqual(typing.names(1), []);
    assert.ok(changes.length > 4, 'a change is emitted when a notice expires, so it can be redrawn');
    typing.forget(2);
    assert.deepEqual(typing.names(2), []);
  });

  test('a repeat keeps it alive', async () => {
    const timers = new FakeTimers();
    const typing = new TypingState({ timers });
    typing.saw(1, 8, 'Bob');
    await timers.advance(TYPING_SHOW_MS - 1000);
    typing.saw(1, 8, 'Bob');
    await timers.advance(TYPING_SHOW_MS - 1000);
    assert.deepEqual(typing.names(1), ['Bob']);
  });

  test('the line of text', () => {
    assert.equal(typingText([]), '');
    assert.equal(typingText(['Ann']), 'Ann is typing…');
    assert.equal(typingText(['Ann', 'Bob']), 'Ann and Bob are typing…');
    assert.equal(typingText(['Ann', 'Bob', 'Cy']), 'Several people are typing…');
  });
});

describe('my typing notices', () => {
  test('at most one per interval while composing; none for an empty box', async () => {
    const timers = new FakeTimers();
    const sent = [];
    const notifier = new TypingNotifier({ send: (ch) => sent.push([ch, timers.now()]), timers });
    const start = timers.now();
    notifier.input(1, false);
    assert.deepEqual(sent, []);
    for (let t = 0; t < 7000; t += 100) {
      notifier.input(1, true);
      await timers.advance(100);
    }
    const times = sent.map(([, at]) => at - start);
    assert.ok(times.length >= 2 && times.length <= 3, `sent at ${times}`);
    for (let i = 1; i < times.length; i++) assert.ok(times[i] - times[i - 1] >= TYPING_SEND_MS, `sent at ${times}`);
  });
});

/**
 * What the other person sees when I type for `typeMs`, press Enter at `sendAt` and go on typing
 * until `untilMs`: the server relays at most one notice per 3 s per connection and channel
 * (the server's TYPING_MIN_INTERVAL_SECS) and drops the rest; the receiver shows a relayed
 * notice for TYPING_SHOW_MS, and clears it when my message arrives.
 * @returns {{relayed: number[], backAfterMs: number, longestGapMs: number}}
 */
async function receiverView({ sendAt, untilMs, keyMs = 100, network = () => 0 }) {
  const SERVER_WINDOW_MS = 3000;
  const timers = new FakeTimers();
  const start = timers.now();
  const relayed = [];
  let lastRelay = -Infinity;
  const notifier = new TypingNotifier({
    send: () => {
      const at = timers.now() - start + network();
      if (at - lastRelay >= SERVER_WINDOW_MS) relayed.push((lastRelay = at));
    },
    timers,
  });
  for (let t = 0; t <= untilMs; t += keyMs) {
    if (t === sendAt) notifier.messageSent(1);
    else notifier.input(1, true);
    await timers.advance(keyMs);
  }
  await timers.advance(TYPING_SEND_MS * 2);
  const after = relayed.filter((t) => t > sendAt);
  let longestGapMs = 0;
  for (let i = 1; i < after.length; i++) longestGapMs = Math.max(longestGapMs, after[i] - (after[i - 1] + TYPING_SHOW_MS));
  return { relayed, backAfterMs: after.length ? after[0] - sendAt : Infinity, longestGapMs };
}

describe('typing right after sending (first-time user bug: the indicator vanished for ~3 s)', () => {
  test('the first notice after a send is not wasted inside the server window', async () => {
    const seen = await receiverView({ sendAt: 2500, untilMs: 9000 });
    // The notice before the send went out at 0; the server takes the next one from 3000 on.
    assert.ok(seen.backAfterMs <= 1000, `shown again ${seen.backAfterMs} ms after the message (relayed at ${seen.relayed})`);
    assert.equal(seen.longestGapMs, 0, `continuous while typing goes on (relayed at ${seen.relayed})`);
  });

  test('whenever the send comes, the notice follows as soon as the server takes one', async () => {
    for (const sendAt of [200, 1500, 2900, 3100, 4800, 6000]) {
      const seen = await receiverView({ sendAt, untilMs: sendAt + 7000 });
      const lastBefore = Math.max(...seen.relayed.filter((t) => t < sendAt));
      // The server takes the next notice 3 s after the last one it relayed; allow the client's
      // safety margin and one key press.
      const soonest = Math.max(lastBefore + 3000 + 250 + 100 - sendAt, 2 * 100);
      assert.ok(seen.backAfterMs <= soonest, `send at ${sendAt}: back after ${seen.backAfterMs} ms (relayed at ${seen.relayed})`);
      assert.equal(seen.longestGapMs, 0, `send at ${sendAt}: relayed at ${seen.relayed}`);
    }
  });

  test('a notice that reaches the server a little early is not dropped', async () => {
    // The previous notice took 150 ms to arrive, the next one 0 ms: the server measures 150 ms less.
    let n = 0;
    const seen = await receiverView({ sendAt: 10_000, untilMs: 20_000, network: () => (n++ % 2 ? 0 : 150) });
    const gaps = seen.relayed.slice(1).map((t, i) => t - seen.relayed[i]);
    assert.ok(gaps.every((g) => g < TYPING_SHOW_MS), `relayed at ${seen.relayed}`);
  });
});
