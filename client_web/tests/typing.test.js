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
