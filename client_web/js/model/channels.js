// The channels I am a member of (conversations included): one record per channel and the
// ChannelLog of its messages. Pure (no DOM, no connection): the controllers feed it what the
// server says and render from it.
//
// A record is {id, name, description, private, role, dm, notify, muted, lastSeq, readSeq,
// unread, mentions, pos, asOf, liveFrom}. Seqs are positions in the channel's stream
// (PROTOCOL.md §10): `pos` is the last position this page applied (what hello.resume sends),
// `liveFrom` the channel's end when this connection started following it (events at or below
// it are replays: never news). Counts follow PROTOCOL.md §10.3: the server's counts are taken
// with the position they are as of (`asOf`), plus this page's own increments after it, so every
// device shows the same numbers whatever order pushes and replies arrive in.
//
// Events:
//   "change"   {ch}       a record was added or changed (name, counts): sidebar, title, header
//   "removed"  {ch}       I am no longer a member: its record and its log are gone
//   "read"     {ch, seq}  the reader's marker moved forward on this page: the server must be
//                         told (ReadMarkers sends it); markers the server told us do not emit it

import { Emitter } from '../lib/emitter.js';
import { ChannelLog } from './channel-log.js';

const NOTIFY_LEVELS = new Set(['all', 'mentions', 'nothing']);

function users(list) {
  return Array.isArray(list)
    ? list.filter((u) => u && Number.isSafeInteger(u.id)).map((u) => ({ id: u.id, name: String(u.name), display: String(u.display) }))
    : null;
}

/** True iff message `m` (held or as sent) mentions user `me`, by id or with @channel. */
export function mentionsUser(m, me) {
  return m.all === true || (Array.isArray(m.mentions) && m.mentions.includes(me));
}

export class Channels extends Emitter {
  constructor() {
    super();
    /** @type {Map<number, object>} */
    this.records = new Map();
    /** @type {Map<number, ChannelLog>} */
    this.logs = new Map();
    /** My user id (set at the first hello): whose messages are mine, who is mentioned. */
    this.me = null;
  }

  get(ch) {
    return this.records.get(ch);
  }

  has(ch) {
    return this.records.has(ch);
  }

  list() {
    return [...this.records.values()];
  }

  log(ch) {
    return this.logs.get(ch);
  }

  /**
   * A Channel from the server (PROTOCOL.md §7): hello, channel.added, channel.updated, dm.open.
   * Its counts are as of its last_seq; a channel new to this page is followed from there.
   */
  upsert(c) {
    if (!c || !Number.isSafeInteger(c.id)) return;
    const old = this.records.get(c.id);
    const lastSeq = Number.isSafeInteger(c.last_seq) ? c.last_seq : 0;
    const r = {
      id: c.id,
      name: String(c.name),
      description: String(c.description ?? ''),
      private: !!c.private,
      role: c.role === 'owner' ? 'owner' : 'member',
      dm: users(c.dm),
      notify: NOTIFY_LEVELS.has(c.notify) ? c.notify : Array.isArray(c.dm) ? 'all' : 'mentions',
      muted: c.muted === true,
      lastSeq: Math.max(old ? old.lastSeq : 0, lastSeq),
      readSeq: Math.max(old ? old.readSeq : 0, c.read_seq ?? 0),
      unread: old ? old.unread : 0,
      mentions: old ? old.mentions : 0,
      pos: old ? old.pos : lastSeq,
      asOf: old ? old.asOf : -1,
      deltas: old ? old.deltas : [],
      liveFrom: old ? old.liveFrom : lastSeq,
    };
    this.records.set(c.id, r);
    if (Number.isSafeInteger(c.unread)) this._counts(r, c.unread, c.mentions ?? 0, lastSeq);
    if (!this.logs.has(c.id)) this.logs.set(c.id, new ChannelLog(c.id));
    this.emit('change', { ch: c.id });
  }

  /**
   * hello's channel list. It is authoritative at this moment: its counts replace mine, the
   * connection follows each channel from its last_seq (a channel whose messages I hold was
   * resumed from my position: its replay follows), and channels missing from it are removed.
   * A read marker never moves backwards: one advanced on this page before a reconnect is no
   * less true than the server's.
   */
  replaceAll(list) {
    const present = new Set();
    for (const c of list) {
      present.add(c.id);
      const old = this.records.get(c.id);
      if (old) {
        old.asOf = -1; // hello's counts win, whatever came before
        old.deltas = [];
        old.liveFrom = c.last_seq ?? 0;
        if (!this.logs.get(c.id)?.loaded) old.pos = c.last_seq ?? 0;
      }
      this.upsert({ ...c, read_seq: Math.max(c.read_seq ?? 0, old ? old.readSeq : 0) });
    }
    for (const ch of [...this.records.keys()]) if (!present.has(ch)) this.remove(ch);
  }

  remove(ch) {
    this.records.delete(ch);
    this.logs.delete(ch);
    this.emit('removed', { ch });
  }

  /**
   * Channel ch has events up to at least `seq` (an ack). No "change": the message itself follows
   * (its push) and renders the counts then.
   */
  noteLastSeq(ch, seq) {
    const c = this.records.get(ch);
    if (c && seq > c.lastSeq) c.lastSeq = seq;
  }

  /** The server says too much was missed: its last position is `seq`; the log starts over. */
  resync(ch, seq) {
    const c = this.records.get(ch);
    if (c) {
      c.lastSeq = Math.max(c.lastSeq, seq);
      c.pos = Math.max(c.pos, seq);
    }
    this.logs.get(ch)?.reset();
    this.emit('change', { ch });
  }

  /** The resume replay of ch is complete up to `seq`: live events follow. */
  caughtUp(ch, seq) {
    const c = this.records.get(ch);
    if (c && seq > c.pos) c.pos = seq;
  }

  /**
   * Counts the server computed as of position `asOf` (a `counts` push, a `read` reply or push).
   * Older than the ones held: ignored.
   */
  counts(ch, unread, mentions, asOf) {
    const c = this.records.get(ch);
    if (!c || !Number.isSafeInteger(unread) || !Number.isSafeInteger(asOf)) return;
    if (this._counts(c, unread, Number.isSafeInteger(mentions) ? mentions : 0, asOf)) this.emit('change', { ch });
  }

  _counts(c, unread, mentions, asOf) {
    if (asOf < c.asOf) return false;
    const later = c.deltas.filter((d) => d[0] > asOf);
    c.unread = unread + later.reduce((n, d) => n + d[1], 0);
    c.mentions = mentions + later.reduce((n, d) => n + d[2], 0);
    c.deltas = later;
    c.asOf = asOf;
    return true;
  }

  /** My marker moved on another connection (a `read` push): nothing to tell the server. */
  readElsewhere(ch, seq, counts = null) {
    const c = this.records.get(ch);
    if (!c) return;
    const moved = seq > c.readSeq;
    if (moved) c.readSeq = seq;
    if (counts && Number.isSafeInteger(counts.last_seq)) this._counts(c, counts.unread, counts.mentions ?? 0, counts.last_seq);
    if (moved || counts) this.emit('change', { ch });
  }

  /**
   * The reader has seen ch up to `seq`. Returns true iff the marker moved; then "read" is
   * emitted so that the server's marker follows (its reply brings the server's counts). Until
   * then the counts are those of the messages this page holds after the marker: the log holds
   * every message from its first one to the newest, so they are exact as of `pos`.
   */
  markRead(ch, seq) {
    const c = this.records.get(ch);
    if (!c || !(seq > c.readSeq)) return false;
    c.readSeq = seq;
    const log = this.logs.get(ch);
    if (log?.loaded && (log.messages.length === 0 || log.firstSeq <= seq)) {
      const after = log.messages.filter((m) => m.seq > seq && m.user !== this.me && !m.deleted);
      c.unread = after.length;
      c.mentions = after.filter((m) => mentionsUser(m, this.me)).length;
      c.deltas = [];
      c.asOf = Math.max(c.asOf, c.pos);
    } else if (seq >= c.lastSeq) {
      c.unread = 0;
      c.mentions = 0;
    }
    this.emit('change', { ch });
    this.emit('read', { ch, seq });
    return true;
  }

  /**
   * A message of mine got `seq` (its ack, or its push): it is read, if nothing of others was
   * unread before it — and the server is told, like any read, so that a reload or another
   * device agrees.
   */
  ownMessage(ch, seq) {
    const c = this.records.get(ch);
    if (c && c.unread === 0) this.markRead(ch, seq);
  }

  /**
   * A `msg` or `msg.changed` push (live or replayed).
   * @param {object} f the push
   * @returns {{result: string, isNew: boolean, own: boolean, mention: boolean, gap: boolean,
   *   message: object}|null} null if ch is not mine; result is ChannelLog.addLive's; isNew: a
   *   live event, not a replay; mention: a new message of someone else that mentions me; gap:
   *   positions before this one never arrived (reload the channel)
   */
  event(f) {
    const c = this.records.get(f.ch);
    const changed = f.op === 'msg.changed';
    const m = changed ? f.message : f;
    if (!c || !Number.isSafeInteger(f.seq) || !m || typeof m !== 'object') return null;
    const seq = f.seq;
    const gap = seq > c.pos + 1;
    const fresh = seq > c.pos;
    const own = this.me !== null && m.user === this.me;
    const isNew = seq > c.liveFrom && fresh;
    c.pos = Math.max(c.pos, seq);
    c.lastSeq = Math.max(c.lastSeq, seq);
    let mention = false;
    if (!changed && fresh && seq > c.asOf && !own && m.deleted !== true && seq > c.readSeq) {
      mention = mentionsUser(m, this.me);
      c.deltas.push([seq, 1, mention ? 1 : 0]);
      c.unread += 1;
      if (mention) c.mentions += 1;
    }
    if (own && !changed) this.ownMessage(f.ch, seq);
    const log = this.logs.get(f.ch);
    const result = log ? log.addLive(m, changed) : 'ignored';
    this.emit('change', { ch: f.ch });
    return { result, isNew, own, mention: mention && isNew, gap, message: m };
  }

  /** Someone's display name changed (`user.updated`): conversations and held messages follow. */
  userUpdated(u) {
    if (!u || !Number.isSafeInteger(u.id)) return;
    for (const c of this.records.values()) {
      if (c.dm?.some((x) => x.id === u.id)) {
        c.dm = c.dm.map((x) => (x.id === u.id ? { ...x, display: String(u.display) } : x));
        c.name = c.dm.map((x) => x.display).join(', ');
        this.emit('change', { ch: c.id });
      }
    }
    for (const log of this.logs.values()) log.updateAuthor(u.id, (m) => ({ ...m, display: String(u.display) }));
  }

  /** [ch, pos] for every channel whose messages are held (hello.resume, PROTOCOL.md §10). */
  resumeEntries() {
    const out = [];
    for (const [ch, log] of this.logs) if (log.loaded && this.records.has(ch)) out.push([ch, this.records.get(ch).pos]);
    return out;
  }
}
