// The outbox: messages the user sent that the server has not acknowledged yet.
//
// Delivery you can trust:
// - An entry is written to storage (localStorage, per user) BEFORE its send frame leaves, and
//   removed only when the ack (= committed, PROTOCOL.md §14) arrives. A reload, a crash or a
//   lost connection leaves it in storage, and it is sent again.
// - Every retry reuses the entry's cid, so the server stores the message exactly once
//   (§5.9: a repeated (sender, cid) is answered with the stored message's ack).
// - Each entry is its own storage key, so two tabs of the same user do not overwrite each
//   other's outbox; if both send the same entry, the cid makes it one message.
//
// Entry status: "pending" (waiting for a connection or a retry), "sending" (frame sent, no reply
// yet), "acked" (committed; kept in memory until the message view has the real message),
// "failed" (refused for good, e.g. too_large or not_member: the user may retry or discard it).
//
// Files (feature "files"): an entry may carry files, each {local, name, size, type, url, id,
// info, error}, persisted with it (their bytes are kept by the upload model, model/uploads.js,
// which uploads them and reports back with fileChanged/fileFailed). The entry stays "pending"
// until every file has its server id; then its send carries them. It does not hold back the
// messages typed after it: those go out at once.
//
// Mentions (feature "mentions"): an entry carries whom it mentions (user ids, and `all` for
// @channel), resolved when it was written, and its send carries them.
//
// Events: "change" (entry) after every status change, "acked" (entry, with entry.ack = the ack).

import { Emitter } from '../lib/emitter.js';
import { backoffDelay } from '../net/backoff.js';
import { cidFromKey, cidKey, newCid } from '../net/ids.js';
import { LocalError } from '../net/codes.js';
import { isBlank } from '../lib/text.js';

const KEY = 'outbox:';
const MAX_MENTIONS = 50; // PROTOCOL.md §12

export class Outbox extends Emitter {
  /**
   * @param {object} opts
   * @param {import('./storage.js').Store} opts.store the user's store
   * @param {{setTimeout: Function, clearTimeout: Function, now: () => number}} [opts.timers]
   * @param {() => number} [opts.random]
   */
  constructor({ store, timers = globalThis, random = Math.random }) {
    super();
    this.store = store;
    this.timers = timers;
    this.now = timers.now ?? (() => Date.now());
    this.random = random;
    /** @type {Map<string, object>} by cid key, in the order added */
    this.items = new Map();
    this._request = null;
    this._order = 0;
    this._retryTimers = new Map();
    this._loaded = false;
    this.load();
    this._loaded = true;
  }

  /** (Re)read the persisted entries; entries already known keep their in-memory state. */
  load() {
    const stored = [];
    for (const key of this.store.keys(KEY)) {
      const e = this.store.get(key);
      if (!isStoredEntry(e) || key !== KEY + e.cid) {
        this.store.remove(key); // unreadable: never send something we cannot trust
        continue;
      }
      stored.push(e);
    }
    stored.sort((a, b) => a.createdAt - b.createdAt || a.order - b.order);
    for (const e of stored) {
      if (this.items.has(e.cid)) continue;
      this.items.set(e.cid, {
        cid: e.cid,
        ch: e.ch,
        body: e.body,
        createdAt: e.createdAt,
        order: e.order,
        status: e.status === 'failed' ? 'failed' : 'pending',
        error: e.error ?? null,
        attempts: 0,
        ack: null,
        files: (e.files ?? []).map((f) => ({ ...f })),
        mentions: Array.isArray(e.mentions) ? e.mentions.filter(Number.isSafeInteger) : [],
        all: e.all === true,
        // Loaded while this page runs: another tab of mine queued it, and uploads its files.
        foreign: this._loaded,
      });
      this._order = Math.max(this._order, e.order + 1);
    }
  }

  /**
   * Queue a new message; it is persisted before this returns and sent when possible (once its
   * files, if any, are uploaded).
   * @param {Array<{local: string, name: string, size: number, type?: string}>} [files]
   * @param {Uint8Array} [cid]
   * @param {{mentions?: number[], all?: boolean}} [mentioning] whom the message mentions
   * @returns {object} the entry
   */
  add(ch, body, files = [], cid = newCid(), { mentions = [], all = false } = {}) {
    const entry = {
      cid: cidKey(cid),
      ch,
      body,
      createdAt: this.now(),
      order: this._order++,
      status: 'pending',
      error: null,
      attempts: 0,
      ack: null,
      files: files.map((f) => ({ local: f.local, name: f.name, size: f.size, type: f.type ?? '', url: null, id: null, info: null, error: null })),
      mentions: [...new Set(mentions)],
      all: all === true,
      foreign: false,
    };
    this.items.set(entry.cid, entry);
    this._persist(entry);
    this.emit('change', entry);
    if (this._request) this._deliver(entry);
    return entry;
  }

  /** Entries of channel `ch` (any status), oldest first. */
  forChannel(ch) {
    return [...this.items.values()].filter((e) => e.ch === ch);
  }

  /** Entries that still need the server (pending, sending, failed). */
  unsent() {
    return [...this.items.values()].filter((e) => e.status !== 'acked');
  }

  get(cid) {
    return this.items.get(cid);
  }

  /**
   * The connection is up: `request(op, fields)` sends. Every pending entry goes out, in order.
   * @param {(op: string, fields: object) => Promise<object>} request
   */
  online(request) {
    this._request = request;
    for (const e of [...this.items.values()]) {
      if (e.status === 'pending') this._deliver(e);
    }
  }

  /** The connection is down: nothing is sent until online() again. */
  offline() {
    this._request = null;
    for (const t of this._retryTimers.values()) this.timers.clearTimeout(t);
    this._retryTimers.clear();
  }

  /** True iff every file of entry `e` is uploaded (the entry may be sent). */
  ready(e) {
    return e.files.every((f) => f.id);
  }

  /** The upload model learned something about a file (its upload's url, its server id…). */
  fileChanged(cid, local, patch) {
    const e = this.items.get(cid);
    const f = e?.files.find((x) => x.local === local);
    if (!f) return;
    Object.assign(f, patch);
    this._persist(e);
    this.emit('change', e);
    if (this._request && e.status === 'pending') this._deliver(e);
  }

  /** A file could not be uploaded (refused, or gone): the message fails with its reason. */
  fileFailed(cid, local, error) {
    const e = this.items.get(cid);
    const f = e?.files.find((x) => x.local === local);
    if (!f || e.status === 'acked') return;
    f.error = error;
    e.status = 'failed';
    e.error = error;
    this._persist(e);
    this.emit('change', e);
  }

  /** The user took a file out of a message not sent yet; a message left empty goes too. */
  removeFile(cid, local) {
    const e = this.items.get(cid);
    if (!e || e.status === 'acked' || e.status === 'sending') return;
    e.files = e.files.filter((f) => f.local !== local);
    if (!e.files.length && isBlank(e.body)) {
      this.discard(cid);
      return;
    }
    if (e.status === 'failed' && !e.files.some((f) => f.error)) {
      e.status = 'pending';
      e.error = null;
    }
    this._persist(e);
    this.emit('change', e);
    if (this._request && e.status === 'pending') this._deliver(e);
  }

  /** Send a failed entry again (same cid); its failed uploads start again too. */
  retry(cid) {
    const e = this.items.get(cid);
    if (!e || e.status !== 'failed') return;
    for (const f of e.files) f.error = null;
    e.status = 'pending';
    e.error = null;
    e.attempts = 0;
    this._persist(e);
    this.emit('change', e);
    if (this._request) this._deliver(e);
  }

  /** Give up on an entry that is not acked (the user discarded it). */
  discard(cid) {
    const e = this.items.get(cid);
    if (!e || e.status === 'acked' || e.status === 'sending') return;
    this.items.delete(cid);
    this.store.remove(KEY + cid);
    e.status = 'discarded';
    this.emit('change', e);
  }

  /** The message view now shows the committed message: forget the acked entry. */
  settle(cid) {
    const e = this.items.get(cid);
    if (e && e.status === 'acked') this.items.delete(cid);
  }

  _persist(e) {
    const { cid, ch, body, createdAt, order, status, error, mentions, all } = e;
    const files = e.files.map(({ local, name, size, type, url, id, info, error: fileError }) => ({ local, name, size, type, url, id, info, error: fileError }));
    this.store.set(KEY + cid, { cid, ch, body, createdAt, order, status: status === 'failed' ? 'failed' : 'pending', error, files, mentions, all });
  }

  async _deliver(e) {
    const request = this._request;
    if (!request || e.status !== 'pending' || !this.ready(e)) return;
    e.status = 'sending';
    e.attempts++;
    this.emit('change', e);
    const fields = { ch: e.ch, cid: cidFromKey(e.cid), body: e.body };
    if (e.files.length) fields.files = e.files.map((f) => f.id);
    if (e.mentions.length) fields.mentions = e.mentions.slice(0, MAX_MENTIONS);
    if (e.all) fields.all = true;
    let ack;
    try {
      ack = await request('send', fields);
    } catch (err) {
      if (this.items.get(e.cid) !== e) return;
      const code = err && typeof err.code === 'string' ? err.code : 'error';
      const transient = err && err.transient === true;
      if (transient) {
        e.status = 'pending';
        this.emit('change', e);
        // Lost connections are retried by the next online(); server-side trouble with backoff.
        if (code !== LocalError.DISCONNECTED && code !== LocalError.OFFLINE && this._request) {
          this._scheduleRetry(e);
        }
      } else {
        e.status = 'failed';
        e.error = { code, message: err && err.message ? String(err.message) : code };
        this._persist(e);
        this.emit('change', e);
      }
      return;
    }
    this.store.remove(KEY + e.cid);
    e.status = 'acked';
    e.ack = { seq: ack.seq, id: ack.id, ts: ack.ts, ch: ack.ch ?? e.ch };
    this.emit('change', e);
    this.emit('acked', e);
  }

  _scheduleRetry(e) {
    const delay = backoffDelay(e.attempts - 1, this.random);
    const t = this.timers.setTimeout(() => {
      this._retryTimers.delete(e.cid);
      if (this.items.get(e.cid) === e) this._deliver(e);
    }, delay);
    this._retryTimers.set(e.cid, t);
  }
}

function isStoredEntry(e) {
  return (
    e !== null &&
    typeof e === 'object' &&
    typeof e.cid === 'string' &&
    /^[0-9a-f]{32}$/.test(e.cid) &&
    Number.isSafeInteger(e.ch) &&
    typeof e.body === 'string' &&
    Number.isFinite(e.createdAt) &&
    Number.isSafeInteger(e.order) &&
    (e.status === 'pending' || e.status === 'failed') &&
    (e.files === undefined || (Array.isArray(e.files) && e.files.every(isStoredFile)))
  );
}

function isStoredFile(f) {
  return (
    f !== null &&
    typeof f === 'object' &&
    typeof f.local === 'string' &&
    typeof f.name === 'string' &&
    Number.isSafeInteger(f.size) &&
    (f.url === null || typeof f.url === 'string') &&
    (f.id === null || typeof f.id === 'string')
  );
}
