// Typing notices (PROTOCOL.md §5.13, §6), both ways. Pure: timers and the request are injected.
//
// - TypingState: who else is typing in which channel; a notice expires TYPING_SHOW_MS after it
//   arrived, or when that person's message arrives.
// - TypingNotifier: when to tell the server that I am typing: at most every TYPING_SEND_MS.

import { Emitter } from '../lib/emitter.js';

export const TYPING_SEND_MS = 3000; // §5.13: at most every 3 s
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

/** When to send my `typing` notices. */
export class TypingNotifier {
  /**
   * @param {object} opts
   * @param {(ch: number) => void} opts.send sends `typing` for ch
   * @param {{now: () => number}} [opts.timers]
   */
  constructor({ send, timers = defaultTimers, intervalMs = TYPING_SEND_MS }) {
    this.send = send;
    this.timers = timers;
    this.intervalMs = intervalMs;
    this._sentAt = 0;
  }

  /**
   * The user edited the message box of ch (call only while connected).
   * @param {number} ch
   * @param {boolean} composing the box holds more than white space
   */
  input(ch, composing) {
    const now = this.timers.now();
    if (!composing || now - this._sentAt < this.intervalMs) return;
    this._sentAt = now;
    this.send(ch);
  }

  /** A message of ch was sent from the box. */
  messageSent() {
    this._sentAt = 0;
  }
}
