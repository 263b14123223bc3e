// Telling the server how far I have read (PROTOCOL.md §5.12): every marker the page moves
// (Channels' "read" event) becomes a `read` request, debounced so that a burst of messages read
// one after the other costs one request per channel. Pure: timers and the request are injected.

/** Reads within this window go out together, the latest seq per channel. */
export const READ_DEBOUNCE_MS = 250;

const defaultTimers = { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (t) => clearTimeout(t) };

export class ReadMarkers {
  /**
   * @param {object} opts
   * @param {import('./channels.js').Channels} opts.channels
   * @param {(ch: number, seq: number) => void} opts.send sends `read` (failures are ignored:
   *   the next marker, or the next hello's counts, catch up)
   * @param {{setTimeout: Function, clearTimeout: Function}} [opts.timers]
   */
  constructor({ channels, send, timers = defaultTimers, debounceMs = READ_DEBOUNCE_MS }) {
    this.send = send;
    this.timers = timers;
    this.debounceMs = debounceMs;
    /** @type {Map<number, number>} ch → the seq to send */
    this.pending = new Map();
    this._timer = null;
    channels.on('read', ({ ch, seq }) => this._queue(ch, seq));
  }

  _queue(ch, seq) {
    this.pending.set(ch, seq);
    if (this._timer === null) this._timer = this.timers.setTimeout(() => this.flush(), this.debounceMs);
  }

  /** Send what is pending now. */
  flush() {
    this.timers.clearTimeout(this._timer);
    this._timer = null;
    const pending = [...this.pending];
    this.pending.clear();
    for (const [ch, seq] of pending) this.send(ch, seq);
  }
}
