// A channel's detached range: the messages around a search hit, loaded both ways, shown instead
// of the live range until the two meet (or it reaches the newest message), then one range.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { ChannelLog } from '../js/model/channel-log.js';
import { msg } from './channel-log.test.js';

const range = (a, b) => Array.from({ length: b - a + 1 }, (_, i) => msg(a + i));
const seqs = (list) => list.map((m) => m.seq);

function liveLog(first, last, hasOlder = true) {
  const log = new ChannelLog(1);
  log.beginLoad();
  log.setLatest(range(first, last), hasOlder);
  return log;
}

describe('detached range', () => {
  test('a target in the live range needs no load; it is only highlighted', () => {
    const log = liveLog(951, 1000);
    assert.equal(log.jumpTo(990), false);
    assert.equal(log.detached, null);
    assert.equal(log.target, 990);
    assert.equal(log.shown.detached, false);
  });

  test('around a far target: shown instead of the live range, loaded both ways', () => {
    const log = liveLog(951, 1000);
    assert.equal(log.jumpTo(300), true);
    assert.equal(log.shown.state, 'loading');
    log.setAround(range(275, 324), true, true);
    assert.deepEqual(seqs(log.shown.messages), seqs(range(275, 324)));
    assert.equal(log.shown.detached, true);
    log.addDetachedOlder(range(225, 274), false);
    log.addDetachedNewer(range(325, 374), true);
    assert.deepEqual([log.shown.messages[0].seq, log.shown.messages.at(-1).seq], [225, 374]);
    assert.equal(log.shown.hasOlder, false);
    // live traffic goes to the live range meanwhile
    assert.equal(log.addLive(msg(1001)), 'added');
    assert.equal(log.lastSeq, 1001);
    assert.equal(log.shown.messages.at(-1).seq, 374);
  });

  test('scrolling down until it meets the live range: one range, the target kept', () => {
    const log = liveLog(951, 1000);
    log.jumpTo(880);
    log.setAround(range(855, 904), true, true);
    log.addDetachedNewer(range(905, 954), true);
    assert.equal(log.detached, null, 'joined');
    assert.deepEqual([log.messages[0].seq, log.messages.at(-1).seq], [855, 1000]);
    assert.equal(new Set(seqs(log.messages)).size, log.messages.length, 'no duplicates');
    assert.equal(log.hasOlder, true);
    assert.equal(log.target, 880);
  });

  test('a jump before the live range is loaded, to the newest messages, becomes the live range', () => {
    const log = new ChannelLog(1);
    assert.equal(log.jumpTo(40), true);
    log.setAround(range(15, 42), true, false);
    assert.equal(log.detached, null);
    assert.equal(log.loaded, true);
    assert.equal(log.lastSeq, 42);
    assert.equal(log.addLive(msg(43)), 'added');
  });

  test('message seqs skip the positions of changes: the ranges join when they overlap', () => {
    const log = new ChannelLog(1);
    log.beginLoad();
    log.setLatest([msg(100), msg(103), msg(104)], true);
    log.jumpTo(40);
    log.setAround([msg(39), msg(40), msg(42)], true, true);
    log.addDetachedNewer([msg(60), msg(99)], true);
    assert.ok(log.detached, 'not yet: 99 and 100 may have messages between them (they do not: the next page says)');
    log.addDetachedNewer([msg(100), msg(103)], true);
    assert.equal(log.detached, null, 'joined once a page reaches the live range');
    assert.deepEqual(seqs(log.messages), [39, 40, 42, 60, 99, 100, 103, 104]);
  });

  test('a change to a message of the detached range shows there too', () => {
    const log = liveLog(951, 1000);
    log.jumpTo(300);
    log.setAround(range(299, 301), true, true);
    assert.equal(log.addLive({ ...msg(300), body: 'fixed', v: 2 }, true), 'ignored', 'not in the live range');
    assert.equal(log.shown.messages[1].body, 'fixed');
  });

  test('back to the latest drops the range and the highlight; a reset drops both too', () => {
    const log = liveLog(951, 1000);
    log.jumpTo(10);
    log.setAround(range(1, 35), false, true);
    log.leaveDetached();
    assert.equal(log.detached, null);
    assert.equal(log.target, 0);
    assert.deepEqual(seqs(log.shown.messages), seqs(range(951, 1000)));
    log.jumpTo(10);
    log.reset();
    assert.equal(log.detached, null);
  });

  test('pages of another channel or after leaving are ignored', () => {
    const log = liveLog(951, 1000);
    log.jumpTo(100);
    log.setAround([msg(100, { ch: 2 })], false, false);
    assert.deepEqual(log.shown.messages, []);
    log.leaveDetached();
    log.addDetachedOlder(range(1, 5), false);
    log.addDetachedNewer(range(6, 9), false);
    assert.deepEqual(seqs(log.messages), seqs(range(951, 1000)));
  });
});
