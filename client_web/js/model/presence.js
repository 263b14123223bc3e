// Presence (PROTOCOL.md §6, §5.14): my own away detection ("away" after AWAY_AFTER_MS without
// any input, "active" again at the first input), and others' states as the server reports them.
// Pure: timers are injected.

import { Emitter } from '../lib/emitter.js';

/** Without any input for this long the user is reported away (as Slack does after minutes). */
export const AWAY_AFTER_MS = 5 * 60 * 1000;

export class IdleTracker extends Emitter {
  /**
   * @param {{timers?: {setTimeout: Function, clearTimeout: Function, now: () => number}, awayAfterMs?: number}} [opts]
   * Emits "change" with "active" or "away".
   */
  constructor({ timers = { setTimeout: (f, ms) => setTimeout(f, ms), clearTimeout: (t) => clearTimeout(t), now: () => Date.now() }, awayAfterMs = AWAY_AFTER_MS } = {}) {
    super();
    this.timers = timers;
    this.awayAfterMs = awayAfterMs;
    this.state = 'active';
    this.lastActivity = timers.now();
    this._timer = null;
    this._arm(awayAfterMs);
  }

  /** Some user input happened. Cheap enough to call on every key press or pointer move. */
  activity() {
    this.lastActivity = this.timers.now();
    if (this.state === 'away') {
      this.state = 'active';
      this.emit('change', 'active');
      this._arm(this.awayAfterMs);
    }
  }

  stop() {
    this.timers.clearTimeout(this._timer);
    this._timer = null;
  }

  /** The server's idle time before "away" (hello's limits.away_secs). */
  setAwayAfter(ms) {
    if (!(ms > 0) || ms === this.awayAfterMs) return;
    this.awayAfterMs = ms;
    if (this.state === 'active') this._check();
  }

  _arm(ms) {
    this.timers.clearTimeout(this._timer);
    this._timer = this.timers.setTimeout(() => this._check(), ms);
  }

  _check() {
    const idle = this.timers.now() - this.lastActivity;
    if (idle >= this.awayAfterMs) {
      this.state = 'away';
      this.emit('change', 'away');
      return; // re-armed by the next activity
    }
    this._arm(this.awayAfterMs - idle);
  }
}

/** Text for a presence state; unknown states read as offline. */
export function presenceLabel(state) {
  return state === 'online' ? 'online' : state === 'away' ? 'away' : 'offline';
}

/** Others' presence by user id, from `members` replies and `presence` pushes (§6). */
export class Presence extends Emitter {
  constructor() {
    super();
    /** @type {Map<number, string>} */
    this.states = new Map();
  }

  /** Record a state (a `presence` push); emits "change". Malformed ones are ignored. */
  set(user, state) {
    this.setMany([[user, state]]);
  }

  /** Record the states of a `members` reply at once ([user, state] pairs); one "change". */
  setMany(entries) {
    let changed = false;
    for (const [user, state] of entries) {
      if (!Number.isSafeInteger(user) || typeof state !== 'string') continue;
      this.states.set(user, state);
      changed = true;
    }
    if (changed) this.emit('change');
  }

  /** The state as a label ("online", "away", "offline": unknown reads as offline). */
  of(user) {
    return presenceLabel(this.states.get(user));
  }
}
