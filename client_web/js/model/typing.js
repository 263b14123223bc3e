// Typing notices (PROTOCOL.md §5.13, §6), both ways. Pure: timers and the request are injected.
//
// - TypingState: who else is typing in which channel; a notice expires TYPING_SHOW_MS after it
//   arrived, or when that person's message arrives.
// - TypingNotifier: when to tell the server that I am typing: at most every TYPING_SEND_MS
//   (plus a margin), and as soon as the server will relay it.

import { Emitter } from '../lib/emitter.js';

export const TYPING_SEND_MS = 3000; // §5.13: at most every 3 s
// Sent a little slower than the server's 3 s window: a notice that reaches the server a few
// ms early (the previous one was delayed more) would be dropped, and the receiver's 5 s expiry
// leaves room for this much.
export const TYPING_MARGIN_MS = 250;
export const TYPING_SHOW_MS = 5000; // §6: expire a typing notice after 5 s

const defaultTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (t) => clearTimeout(t),
  now: () => Date.now(),
};

/** Others typing, per channel. Emits "change" {ch} when a channel's list may have changed. */
export class TypingState extends Emitter {
  constructor({ timers = defaultTimers } = {}) {
    super();
    this.timers = timers;
    /** @type {Map<number, Map<number, {display: string, until: number}>>} */
    this.byChannel = new Map();
  }

  /** A `typing` push: `user` (shown as `display`) is typing in ch. */
  saw(ch, user, display) {
    let map = this.byChannel.get(ch);
    if (!map) {
      map = new Map();
      this.byChannel.set(ch, map);
    }
    map.set(user, { display: String(display ?? ''), until: this.timers.now() + TYPING_SHOW_MS });
    this.emit('change', { ch });
    // Expired notices are dropped by names(): ask for a render just after this one expires.
    this.timers.setTimeout(() => this.emit('change', { ch }), TYPING_SHOW_MS + 50);
  }

  /** `user` is no longer typing in ch (their message arrived). */
  clear(ch, user) {
    const map = this.byChannel.get(ch);
    if (map && map.delete(user)) this.emit('change', { ch });
  }

  /** Forget a channel (I left it). */
  forget(ch) {
    this.byChannel.delete(ch);
  }

  /** Display names of who is typing in ch now, in the order they started. */
  names(ch) {
    const map = this.byChannel.get(ch);
    const now = this.timers.now();
    const names = [];
    if (map) {
      for (const [user, t] of map) {
        if (t.until <= now) map.delete(user);
        else names.push(t.display);
      }
    }
    return names;
  }
}

/** "Ann is typing…", "Ann and Bob are typing…", "Several people are typing…", or "". */
export function typingText(names) {
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  if (names.length > 2) return 'Several people are typing…';
  return '';
}

/**
 * When to send my `typing` notices. The server relays at most one per 3 s per connection and
 * channel and drops the others (the server's TYPING_MIN_INTERVAL_SECS), and the other
 * side shows a notice for 5 s and clears it when my message arrives. So a notice sent inside
 * the server's window is lost, and the next one must go out as soon as the window is over:
 *
 * - the interval is counted per channel from the last notice actually sent (as the server
 *   does), with a margin for network jitter (a notice arriving early would be dropped);
 * - sending a message does not reset it (a reset made the first key press after a send go out
 *   inside the window, dropped, and the next one only 3 s later: the indicator vanished for
 *   ~3 s while the person went on typing);
 * - a key press inside the window is not forgotten: the notice goes out when the window ends.
 */
export class TypingNotifier {
  /**
   * @param {object} opts
   * @param {(ch: number) => void} opts.send sends `typing` for ch
   * @param {{setTimeout: Function, clearTimeout: Function, now: () => number}} [opts.timers]
   */
  constructor({ send, timers = defaultTimers, intervalMs = TYPING_SEND_MS + TYPING_MARGIN_MS }) {
    this.send = send;
    this.timers = timers;
    this.intervalMs = intervalMs;
    /** @type {Map<number, number>} ch → when its last notice was sent */
    this._sentAt = new Map();
    this._pending = null; // the channel typed in since its last notice, waiting for the window
    this._timer = null;
  }

  /**
   * The user edited the message box of ch (call only while connected).
   * @param {number} ch
   * @param {boolean} composing the box holds more than white space
   */
  input(ch, composing) {
    if (!composing || this._pending !== ch) this.cancel();
    if (!composing) return;
    const last = this._sentAt.get(ch);
    const wait = last === undefined ? 0 : last + this.intervalMs - this.timers.now();
    if (wait <= 0) {
      this._notify(ch);
      return;
    }
    this._pending = ch;
    if (this._timer === null) {
      this._timer = this.timers.setTimeout(() => {
        this._timer = null;
        const pending = this._pending;
        this._pending = null;
        if (pending !== null) this._notify(pending);
      }, wait);
    }
  }

  /** A message of ch was sent: what was typed so far is in it (no notice owed for it). */
  messageSent(ch) {
    if (this._pending === ch) this.cancel();
  }

  /** Forget a notice owed (the box was emptied, or another channel opened). */
  cancel() {
    this.timers.clearTimeout(this._timer);
    this._timer = null;
    this._pending = null;
  }

  _notify(ch) {
    this._sentAt.set(ch, this.timers.now());
    this.send(ch);
  }
}
