// This page's session: who I am (from hello), the server's limits, features and clock, the
// channel on screen, and my per-user state (outbox, drafts, preferences, the uploads of my
// files), created at the first hello. Pure over an injected localStorage-like backend and, for
// files, an injected upload transport and blob store.

import { Store } from './storage.js';
import { Outbox } from './outbox.js';
import { Drafts } from './drafts.js';
import { Prefs } from './prefs.js';
import { Uploader } from './uploads.js';

const DEFAULT_LIMITS = { body_bytes: 16384, frame_bytes: 65536 }; // PROTOCOL.md §12

export class Session {
  /**
   * @param {Storage|null} backend localStorage, or null (memory only)
   * @param {{transport: object, openBlobs: (userId: number) => object}|null} [files] how files
   *   are uploaded (net/uploads.js) and where their bytes wait (lib/blob-store.js)
   */
  constructor(backend, files = null) {
    this.backend = backend;
    this.files = files;
    /** @type {Uploader|null} */
    this.uploader = null;
    this.blobs = null;
    /** @type {Set<string>} the server's features (hello) */
    this.features = new Set();
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
    /** I am an admin (from /api/me): I may delete any message of a channel I am in. */
    this.isAdmin = false;
    /** The optional capabilities the server announced in hello (PROTOCOL.md §13). */
    this.features = new Set();
  }

  /** True iff this server takes files (feature "files") and this page can upload them. */
  get canUpload() {
    return this.features.has('files') && this.uploader !== null;
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
      if (this.files) {
        this.blobs = this.files.openBlobs(user.id);
        this.uploader = new Uploader({ outbox: this.outbox, transport: this.files.transport, blobs: this.blobs });
        this.uploader.schedule(); // uploads a reload interrupted
      }
    }
    this.features = new Set(Array.isArray(ok.features) ? ok.features : []);
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
