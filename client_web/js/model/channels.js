// The channels I am a member of: one record per channel and the ChannelLog of its messages.
// Pure (no DOM, no connection): the controllers feed it what the server says and render from it.
//
// A record is {id, name, description, private, role, lastSeq, readSeq}. Unread counts are
// lastSeq − readSeq (unread.js): the client never counts messages itself, so a replay after a
// reconnect cannot be counted twice.
//
// Events:
//   "change"   {ch}       a record was added or changed (name, counts): sidebar, title, header
//   "removed"  {ch}       I am no longer a member: its record and its log are gone
//   "read"     {ch, seq}  the reader's marker moved forward on this page: the server must be
//                         told (ReadMarkers sends it); markers the server told us do not emit it

import { Emitter } from '../lib/emitter.js';
import { ChannelLog } from './channel-log.js';

export class Channels extends Emitter {
  constructor() {
    super();
    /** @type {Map<number, object>} */
    this.records = new Map();
    /** @type {Map<number, ChannelLog>} */
    this.logs = new Map();
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
   * A Channel from the server (PROTOCOL.md §7). Seqs only move forward.
   *
   * The server's `unread` leaves out my own messages, while lastSeq − readSeq counts every
   * message past the marker: messages I sent from elsewhere (or before the server heard of my
   * reading) would show as unread. So the marker is taken as at least last_seq − unread: the
   * same count as the server's, and my own messages are never news to me.
   */
  upsert(c) {
    if (!c || !Number.isSafeInteger(c.id)) return;
    const old = this.records.get(c.id);
    const readByCount = Number.isSafeInteger(c.unread) && Number.isSafeInteger(c.last_seq) ? c.last_seq - c.unread : 0;
    this.records.set(c.id, {
      id: c.id,
      name: String(c.name),
      description: String(c.description ?? ''),
      private: !!c.private,
      role: c.role === 'owner' ? 'owner' : 'member',
      lastSeq: Math.max(old ? old.lastSeq : 0, c.last_seq ?? 0),
      readSeq: Math.max(old ? old.readSeq : 0, c.read_seq ?? 0, readByCount),
    });
    if (!this.logs.has(c.id)) this.logs.set(c.id, new ChannelLog(c.id));
    this.emit('change', { ch: c.id });
  }

  /**
   * hello's channel list. It is authoritative at this moment: its last seq replaces mine, and
   * channels missing from it are removed. A read marker never moves backwards, though: one
   * advanced on this page before a reconnect is no less true than the server's.
   */
  replaceAll(list) {
    const present = new Set();
    for (const c of list) {
      present.add(c.id);
      const old = this.records.get(c.id);
      this.records.delete(c.id);
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
   * Channel ch has messages up to at least `seq` (an ack, a history page). No "change": the
   * message itself follows (its push, or the page being shown) and renders the counts then.
   */
  noteLastSeq(ch, seq) {
    const c = this.records.get(ch);
    if (c && seq > c.lastSeq) c.lastSeq = seq;
  }

  /** The server says too much was missed: its last seq is `seq`; the log starts over. */
  resync(ch, seq) {
    const c = this.records.get(ch);
    if (c) c.lastSeq = Math.max(c.lastSeq, seq);
    this.logs.get(ch)?.reset();
    this.emit('change', { ch });
  }

  /** My marker moved on another connection (a `read` push): nothing to tell the server. */
  readElsewhere(ch, seq) {
    const c = this.records.get(ch);
    if (!c || !(seq > c.readSeq)) return;
    c.readSeq = seq;
    this.emit('change', { ch });
  }

  /**
   * The reader has seen ch up to `seq`. Returns true iff the marker moved; then "read" is
   * emitted so that the server's marker follows.
   */
  markRead(ch, seq) {
    const c = this.records.get(ch);
    if (!c || !(seq > c.readSeq)) return false;
    c.readSeq = seq;
    this.emit('change', { ch });
    this.emit('read', { ch, seq });
    return true;
  }

  /**
   * A message of mine got `seq` (its ack, or its push): it is read, if everything before it
   * was — and the server is told, like any read, so that a reload or another device agrees.
   */
  ownMessage(ch, seq) {
    const c = this.records.get(ch);
    if (c && c.readSeq >= seq - 1) this.markRead(ch, seq);
  }

  /**
   * A `msg` push (live or replayed).
   * @param {object} m the Message
   * @param {number|null} me my user id
   * @returns {{result: string, isNew: boolean, own: boolean}|null} null if ch is not mine;
   *   result is ChannelLog.addLive's; isNew: not a replay of something already counted
   */
  addMessage(m, me) {
    const c = this.records.get(m.ch);
    if (!c || !Number.isSafeInteger(m.seq)) return null;
    const isNew = m.seq > c.lastSeq;
    c.lastSeq = Math.max(c.lastSeq, m.seq);
    const own = me !== null && m.user === me;
    if (own) this.ownMessage(m.ch, m.seq);
    const log = this.logs.get(m.ch);
    const result = log ? log.addLive(m) : 'ignored';
    this.emit('change', { ch: m.ch });
    return { result, isNew, own };
  }

  /** [ch, tail] for every channel whose messages are held (hello.resume, PROTOCOL.md §10). */
  resumeEntries() {
    const out = [];
    for (const [ch, log] of this.logs) if (log.loaded && this.records.has(ch)) out.push([ch, log.tail]);
    return out;
  }
}
