// This page's session: who I am (from hello), the server's limits and clock, the channel on
// screen, and my per-user state (outbox, drafts, preferences), created at the first hello.
// Pure over an injected localStorage-like backend.

import { Store } from './storage.js';
import { Outbox } from './outbox.js';
import { Drafts } from './drafts.js';
import { Prefs } from './prefs.js';

const DEFAULT_LIMITS = { body_bytes: 16384, frame_bytes: 65536 }; // PROTOCOL.md §12

export class Session {
  /** @param {Storage|null} backend localStorage, or null (memory only) */
  constructor(backend) {
    this.backend = backend;
    /** @type {{id: number, name: string, display: string}|null} */
    this.me = null;
    this.store = null;
    /** @type {Outbox|null} */
    this.outbox = null;
    /** @type {Drafts|null} */
    this.drafts = null;
    /** @type {Prefs|null} */
    this.prefs = null;
    this.limits = { ...DEFAULT_LIMITS };
    this.clockOffsetMs = 0;
    /** The channel on screen, or null. */
    this.activeId = null;
    /** The optional capabilities the server announced in hello (PROTOCOL.md §13). */
    this.features = new Set();
  }

  /** My user id, or null before the first hello. */
  get myId() {
    return this.me ? this.me.id : null;
  }

  /**
   * A hello ok arrived.
   * @returns {"first"|"again"|"other-user"} "other-user": someone else logged in on this page,
   *   whose state is not ours to show (the caller reloads the page)
   */
  hello(ok, now = Date.now()) {
    const user = ok.user;
    if (this.me && this.me.id !== user.id) return 'other-user';
    const first = !this.me;
    if (first) {
      this.me = { id: user.id, name: user.name, display: user.display };
      this.store = new Store(this.backend, `chatd:v1:u${user.id}:`);
      this.outbox = new Outbox({ store: this.store });
      this.drafts = new Drafts(this.store);
      this.prefs = new Prefs(this.store);
    }
    this.me.display = user.display;
    this.limits = { ...this.limits, ...(ok.limits ?? {}) };
    this.features = new Set(Array.isArray(ok.features) ? ok.features.filter((f) => typeof f === 'string') : []);
    if (Number.isSafeInteger(ok.server_time)) this.clockOffsetMs = ok.server_time - now;
    return first ? 'first' : 'again';
  }

  /** The server's idea of now, in ms since the epoch. */
  serverNow(now = Date.now()) {
    return now + this.clockOffsetMs;
  }
}
