// The members of the channels I looked at (a `members` reply each), kept current by
// member.joined / member.left / user.updated pushes: for the members panel, the mention picker
// and the names of mentioned people. Pure. Emits "change" {ch} (ch null: every channel).

import { Emitter } from '../lib/emitter.js';

const collator = new Intl.Collator(undefined, { sensitivity: 'base', numeric: true });
const ORDER = { online: 0, away: 1, offline: 2 };

/** Members as the panel lists them: online first, then away, then offline; by name within. */
export function byPresence(members, presenceOf) {
  return [...members].sort(
    (a, b) => (ORDER[presenceOf(a.id)] ?? 2) - (ORDER[presenceOf(b.id)] ?? 2) || collator.compare(a.display, b.display) || a.id - b.id,
  );
}

export class Members extends Emitter {
  constructor() {
    super();
    /** @type {Map<number, Array<{id: number, name: string, display: string, role: string}>>} */
    this.byChannel = new Map();
    /** @type {Map<number, string>} user id → username, of everyone seen */
    this.names = new Map();
  }

  /** ch's members, or undefined if they were never loaded. */
  of(ch) {
    return this.byChannel.get(ch);
  }

  /** A `members` reply for ch. */
  set(ch, list) {
    const members = list.filter((m) => m && Number.isSafeInteger(m.id)).map((m) => ({
      id: m.id, name: String(m.name), display: String(m.display), role: m.role === 'owner' ? 'owner' : 'member',
    }));
    for (const m of members) this.names.set(m.id, m.name);
    this.byChannel.set(ch, members);
    this.emit('change', { ch });
  }

  /** A `member.joined` push (ignored for a channel never loaded: its next load has it). */
  joined(ch, m) {
    const list = this.byChannel.get(ch);
    if (!list || !m || !Number.isSafeInteger(m.id)) return;
    this.names.set(m.id, String(m.name));
    if (!list.some((x) => x.id === m.id)) {
      list.push({ id: m.id, name: String(m.name), display: String(m.display), role: m.role === 'owner' ? 'owner' : 'member' });
      this.emit('change', { ch });
    }
  }

  /** A `member.left` push. */
  left(ch, user) {
    const list = this.byChannel.get(ch);
    if (!list) return;
    const kept = list.filter((x) => x.id !== user);
    if (kept.length !== list.length) {
      this.byChannel.set(ch, kept);
      this.emit('change', { ch });
    }
  }

  /** A `user.updated` push: the new display name everywhere. */
  renamed(u) {
    if (!u || !Number.isSafeInteger(u.id)) return;
    for (const list of this.byChannel.values()) {
      for (const m of list) if (m.id === u.id) m.display = String(u.display);
    }
    this.emit('change', { ch: null });
  }

  /** I left ch (or it is gone): forget it. */
  forget(ch) {
    this.byChannel.delete(ch);
  }
}
