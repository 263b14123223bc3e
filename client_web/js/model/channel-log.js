// The messages of one channel as the client holds them: merged from history pages, resume
// replays and live pushes, deduplicated and ordered by seq, each as its newest version. Pure.
//
// What the client holds is the newest messages of the channel (the latest page, then whatever
// arrived live) plus any older pages loaded by scrolling up. Seqs are stream positions
// (PROTOCOL.md §10): messages skip the positions of changes (edits, deletes), so a page's seqs
// are increasing but not dense; the channel's record (channels.js) tracks the stream itself.
// A message is replaced only by a version `v` higher than the one held, so a duplicate or late
// event (a replay, a page read before an edit) changes nothing.
//
// Beside that live range it may hold one detached range: the messages around a search hit (or a
// link), far from the newest, loaded both ways by scrolling. It joins the live range as soon as
// the two meet (or it reaches the channel's newest message); until then the view shows it, and
// "back to the latest" drops it. Live messages always go to the live range.

import { cidKey } from '../net/ids.js';
import { isFileInfo } from './files.js';

/** True iff `m` has the shape of a Message (PROTOCOL.md §7); anything else is ignored. */
export function isMessage(m) {
  return (
    m !== null &&
    typeof m === 'object' &&
    Number.isSafeInteger(m.ch) &&
    Number.isSafeInteger(m.seq) &&
    m.seq > 0 &&
    Number.isSafeInteger(m.id) &&
    Number.isSafeInteger(m.ts) &&
    Number.isSafeInteger(m.user) &&
    typeof m.name === 'string' &&
    typeof m.display === 'string' &&
    m.cid instanceof Uint8Array &&
    m.cid.length === 16 &&
    (typeof m.body === 'string' || m.deleted === true)
  );
}

/** The key a message (or an outbox entry of `user`) is known by across pending → committed. */
export function messageKey(user, cidHex) {
  return `${user}:${cidHex}`;
}

/** A message as held: cid as hex, version and change fields normalised. */
export function toHeld(m) {
  const deleted = m.deleted === true;
  return {
    ch: m.ch,
    seq: m.seq,
    id: m.id,
    ts: m.ts,
    user: m.user,
    name: m.name,
    display: m.display,
    body: deleted ? '' : m.body,
    cid: cidKey(m.cid),
    files: !deleted && Array.isArray(m.files) ? m.files.filter(isFileInfo) : [],
    v: Number.isSafeInteger(m.v) && m.v > 0 ? m.v : 1,
    edited: Number.isSafeInteger(m.edited) ? m.edited : 0,
    deleted,
    mentions: !deleted && Array.isArray(m.mentions) ? m.mentions.filter(Number.isSafeInteger) : [],
    all: !deleted && m.all === true,
  };
}

/** Index of the first element with seq >= `seq` in the sorted array. */
function lowerBound(list, seq) {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid].seq < seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class ChannelLog {
  /** @param {number} ch */
  constructor(ch) {
    this.ch = ch;
    /** "empty" (nothing loaded), "loading" (latest page requested), "loaded" */
    this.state = 'empty';
    /** @type {Array<object>} held messages, ascending seq, no duplicates; cid as hex */
    this.messages = [];
    this.hasOlder = false;
    this.loadingOlder = false;
    this._early = []; // live messages that arrived while the latest page was on its way
    this._keys = new Set(); // messageKey(user, cid) of every held message
    /** @type {DetachedRange|null} the range around a jump target, while it has not met the live one */
    this.detached = null;
    /** The seq to highlight (a search hit), in whichever range holds it; 0: none */
    this.target = 0;
  }

  get loaded() {
    return this.state === 'loaded';
  }

  get firstSeq() {
    return this.messages.length ? this.messages[0].seq : 0;
  }

  get lastSeq() {
    return this.messages.length ? this.messages[this.messages.length - 1].seq : 0;
  }

  /** True iff a message of `user` with cid `cidHex` is held. */
  hasKey(key) {
    return this._keys.has(key);
  }

  /** Forget everything (unsubscribed, or a resync: the caller reloads the latest page). */
  reset() {
    this.detached = null;
    this.state = 'empty';
    this.messages = [];
    this.hasOlder = false;
    this.loadingOlder = false;
    this._early = [];
    this._keys.clear();
  }

  /** The latest page was requested: live messages are kept aside until it arrives. */
  beginLoad() {
    this.reset();
    this.state = 'loading';
  }

  /** The latest-page request failed: back to "empty" (the caller retries later). */
  loadFailed() {
    if (this.state === 'loading') this.reset();
  }

  /**
   * The latest page arrived (ascending seq). Messages that arrived live meanwhile are merged
   * (the newer version of each wins).
   */
  setLatest(page, more) {
    const early = this._early;
    this.reset();
    this.state = 'loaded';
    this.hasOlder = !!more;
    for (const m of page) if (isMessage(m) && m.ch === this.ch) this._insert(toHeld(m));
    for (const m of early) this._insert(m);
  }

  /**
   * A live (or replayed) message: its posting, or its new version (`msg.changed`).
   * @param {object} m a Message
   * @param {boolean} [changed] a change: only replaces a message already held (a change to one
   *   not held — older than what is loaded — is for a page that loads it as it is now)
   * @returns {"added"|"changed"|"duplicate"|"ignored"}
   */
  addLive(m, changed = false) {
    if (!isMessage(m) || m.ch !== this.ch) return 'ignored';
    const held = toHeld(m);
    if (this.state === 'loading') {
      const i = this._early.findIndex((x) => x.seq === held.seq);
      if (i < 0) this._early.push(held);
      else if (held.v > this._early[i].v) this._early[i] = held;
      return changed ? 'changed' : 'added';
    }
    this.detached?.update(held);
    if (this.state !== 'loaded') return 'ignored';
    if (changed && !this.holds(held.seq)) return 'ignored';
    const result = this._insert(held);
    return result === 'added' && changed ? 'changed' : result;
  }

  /** True iff message `seq` is held (in the live range). */
  holds(seq) {
    const i = lowerBound(this.messages, seq);
    return i < this.messages.length && this.messages[i].seq === seq;
  }

  /** The held message `seq` (live or detached range), or undefined. */
  find(seq) {
    for (const list of [this.messages, this.detached?.messages ?? []]) {
      const i = lowerBound(list, seq);
      if (i < list.length && list[i].seq === seq) return list[i];
    }
    return undefined;
  }

  /** Every held message (both ranges) by `user`: `fn(message)` returns its replacement. */
  updateAuthor(user, fn) {
    for (const list of [this.messages, this.detached?.messages ?? []]) {
      for (let i = 0; i < list.length; i++) if (list[i].user === user) list[i] = fn(list[i]);
    }
  }

  /** An older page (history before firstSeq) arrived. */
  addOlder(page, more) {
    this.loadingOlder = false;
    if (!this.loaded) return 0;
    let n = 0;
    for (const m of page) if (isMessage(m) && m.ch === this.ch && this._insert(toHeld(m)) === 'added') n++;
    this.hasOlder = !!more;
    return n;
  }

  /** Drop the oldest messages beyond `max` (memory bound); older ones load again on scroll. */
  trimOldest(max) {
    if (this.messages.length <= max) return 0;
    const drop = this.messages.length - max;
    for (const m of this.messages.slice(0, drop)) this._keys.delete(messageKey(m.user, m.cid));
    this.messages = this.messages.slice(drop);
    this.hasOlder = true;
    return drop;
  }

  // --- the detached range ----------------------------------------------------------------

  /**
   * Show the messages around `seq`. Returns false when the live range holds `seq` already
   * (nothing to load: it is highlighted there); else a detached range waits for its page.
   */
  jumpTo(seq) {
    this.target = seq;
    if (this.loaded && this.messages.length && seq >= this.firstSeq && seq <= this.lastSeq) {
      this.detached = null;
      return false;
    }
    this.detached = new DetachedRange(seq);
    return true;
  }

  /** The `around` page of the detached range arrived (ascending seq). */
  setAround(page, moreBefore, moreAfter) {
    const d = this.detached;
    if (!d) return;
    d.state = 'loaded';
    d.add(page.filter((m) => isMessage(m) && m.ch === this.ch).map(toHeld));
    d.hasOlder = !!moreBefore;
    d.hasNewer = !!moreAfter;
    this._join();
  }

  /** A page of history before the detached range's first message arrived. */
  addDetachedOlder(page, more) {
    const d = this.detached;
    if (!d) return;
    d.loadingOlder = false;
    d.add(page.filter((m) => isMessage(m) && m.ch === this.ch).map(toHeld));
    d.hasOlder = !!more;
  }

  /** A page of history after the detached range's last message arrived. */
  addDetachedNewer(page, more) {
    const d = this.detached;
    if (!d) return;
    d.loadingNewer = false;
    d.add(page.filter((m) => isMessage(m) && m.ch === this.ch).map(toHeld));
    d.hasNewer = !!more;
    this._join();
  }

  /** Back to the live end: the detached range is dropped (the highlight goes with it). */
  leaveDetached() {
    this.detached = null;
    this.target = 0;
  }

  /** What the view shows: the detached range while there is one, else the live range. */
  get shown() {
    const d = this.detached;
    if (d) {
      return { messages: d.messages, state: d.state === 'loaded' ? 'loaded' : 'loading', hasOlder: d.hasOlder,
               loadingOlder: d.loadingOlder, hasNewer: d.hasNewer, loadingNewer: d.loadingNewer, detached: true };
    }
    return { messages: this.messages, state: this.state, hasOlder: this.hasOlder, loadingOlder: this.loadingOlder,
             hasNewer: false, loadingNewer: false, detached: false };
  }

  /** The detached range meets the live one, or reaches the newest message: one range again. */
  _join() {
    const d = this.detached;
    if (!d || d.state !== 'loaded') return;
    // Seqs skip the positions of changes, so ranges "meet" when they overlap: a history page
    // after the detached range's last message reaches the live range's first one.
    const meets = this.loaded && this.messages.length > 0 && d.lastSeq >= this.firstSeq;
    if (meets) {
      if (d.firstSeq < this.firstSeq) this.hasOlder = d.hasOlder;
      for (const m of d.messages) this._insert(m);
      this.detached = null;
    } else if (!d.hasNewer && this.state !== 'loaded') {
      // The newest messages, and no live range yet: this is the live range now.
      this.reset();
      this.state = 'loaded';
      for (const m of d.messages) this._insert(m);
      this.hasOlder = d.hasOlder;
    }
  }

  /** Insert, or replace with a newer version: "added", "changed" or "duplicate". */
  _insert(held) {
    const list = this.messages;
    const n = list.length;
    // Appending is the common case (live traffic): check it first.
    const i = n === 0 || list[n - 1].seq < held.seq ? n : lowerBound(list, held.seq);
    if (i < n && list[i].seq === held.seq) {
      if (held.v <= list[i].v) return 'duplicate';
      list[i] = held;
      return 'changed';
    }
    list.splice(i, 0, held);
    this._keys.add(messageKey(held.user, held.cid));
    return 'added';
  }
}

/** The messages around a jump target, apart from the live range until they meet it. */
export class DetachedRange {
  constructor(target) {
    this.target = target;
    /** "loading" (the around page is on its way), "loaded" */
    this.state = 'loading';
    this.messages = [];
    this.hasOlder = false;
    this.hasNewer = false;
    this.loadingOlder = false;
    this.loadingNewer = false;
  }

  get firstSeq() {
    return this.messages.length ? this.messages[0].seq : 0;
  }

  get lastSeq() {
    return this.messages.length ? this.messages[this.messages.length - 1].seq : 0;
  }

  /** Merge held messages in, by seq, without duplicates (the newer version of each wins). */
  add(list) {
    const bySeq = new Map(this.messages.map((m) => [m.seq, m]));
    for (const m of list) if (!(bySeq.get(m.seq)?.v >= m.v)) bySeq.set(m.seq, m);
    this.messages = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
  }

  /** A newer version of a message this range holds replaces it. */
  update(held) {
    const i = this.messages.findIndex((m) => m.seq === held.seq);
    if (i >= 0 && held.v > this.messages[i].v) this.messages[i] = held;
  }
}
