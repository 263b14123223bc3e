// The search panel's state: the query, its order, the results loaded so far (a page at a time,
// by the server's `next` cursor), the capped count, and the suggestions of an empty result
// (PROTOCOL.md §5.16). Pure: the controller feeds it replies, the view renders it.
//
// Every search has a generation: a reply of an older search (the user typed on) is ignored.
//
// Events: "change" — anything shown changed.

import { Emitter } from '../lib/emitter.js';

/** Orders the server knows, in the order the toggle offers them. */
export const ORDERS = ['relevance', 'newest'];

/** A SearchHit with the fields the client uses, or null if it is not one (ignored). */
function toHit(h) {
  if (
    h === null || typeof h !== 'object' || !Number.isSafeInteger(h.ch) || !Number.isSafeInteger(h.seq) ||
    !Number.isSafeInteger(h.id) || !Number.isSafeInteger(h.ts) || typeof h.snippet !== 'string' ||
    typeof h.display !== 'string' || typeof h.name !== 'string'
  ) {
    return null;
  }
  const hl = Array.isArray(h.hl) ? h.hl.filter((r) => Array.isArray(r) && Number.isSafeInteger(r[0]) && Number.isSafeInteger(r[1])) : [];
  return { ch: h.ch, seq: h.seq, id: h.id, ts: h.ts, user: h.user, name: h.name, display: h.display, snippet: h.snippet, hl };
}

export class SearchModel extends Emitter {
  constructor() {
    super();
    this.clear();
  }

  /** Nothing searched: the panel shows its help. */
  clear() {
    this.generation = (this.generation ?? 0) + 1;
    this.q = '';
    this.order = 'relevance';
    this.results = [];
    this.count = 0;
    this.capped = false;
    this.next = null;
    this.suggestions = [];
    /** "idle", "first" (the first page is on its way), "more" (a further page is) */
    this.loading = 'idle';
    this.error = null;
    this.searched = false; // a first page arrived for q
    this._ids = new Set();
    this.emit('change');
  }

  /** A new search: returns its generation (pass it back with the reply). */
  start(q, order) {
    this.clear();
    this.q = q;
    this.order = ORDERS.includes(order) ? order : 'relevance';
    this.loading = 'first';
    this.emit('change');
    return this.generation;
  }

  /** The next page may be asked for: returns {generation, after}, or null. */
  startMore() {
    if (this.loading !== 'idle' || this.next === null || this.error) return null;
    this.loading = 'more';
    this.emit('change');
    return { generation: this.generation, after: this.next };
  }

  /** A page of search `generation` arrived. Returns false if it was for an older search. */
  received(generation, reply) {
    if (generation !== this.generation) return false;
    for (const raw of Array.isArray(reply.results) ? reply.results : []) {
      const hit = toHit(raw);
      if (hit && !this._ids.has(hit.id)) {
        this._ids.add(hit.id);
        this.results.push(hit);
      }
    }
    if (!this.searched) {
      this.suggestions = Array.isArray(reply.suggestions)
        ? reply.suggestions.filter((s) => s && typeof s.q === 'string' && typeof s.kind === 'string')
        : [];
    }
    this.count = Number.isSafeInteger(reply.count) ? reply.count : this.results.length;
    this.capped = !!reply.capped;
    this.next = typeof reply.next === 'string' ? reply.next : null;
    this.loading = 'idle';
    this.searched = true;
    this.error = null;
    this.emit('change');
    return true;
  }

  /** The request of `generation` failed with `message` (for humans). */
  failed(generation, message) {
    if (generation !== this.generation) return;
    this.loading = 'idle';
    this.error = message;
    this.emit('change');
  }

  get hasMore() {
    return this.next !== null;
  }
}

/** "1 message", "12 messages", "1,000+ messages" (the server counts up to 1000). */
export function countText(count, capped, locale) {
  const n = new Intl.NumberFormat(locale).format(count);
  if (capped) return `${n}+ messages`;
  return `${n} message${count === 1 ? '' : 's'}`;
}

/**
 * A snippet cut into runs of plain and highlighted text. `ranges` are [start, length] in code
 * points (not UTF-16 units): an emoji before a match must not shift the mark.
 * @returns {Array<{text: string, mark: boolean}>}
 */
export function markSegments(text, ranges) {
  const chars = Array.from(text);
  const marked = new Uint8Array(chars.length);
  for (const [start, length] of ranges) {
    for (let i = Math.max(0, start); i < Math.min(chars.length, start + length); i++) marked[i] = 1;
  }
  const out = [];
  let i = 0;
  while (i < chars.length) {
    let j = i;
    while (j < chars.length && marked[j] === marked[i]) j++;
    out.push({ text: chars.slice(i, j).join(''), mark: marked[i] === 1 });
    i = j;
  }
  return out;
}

/** What a suggestion says, as text (the view adds the query as a button). */
export function suggestionText(s) {
  switch (s.kind) {
    case 'spelling':
      return 'Did you mean';
    case 'all_channels':
      return 'Search all your channels:';
    case 'any_date':
      return 'Search any date:';
    case 'without':
      return `Without ${s.removed ?? 'one part'}:`;
    default:
      return 'Try';
  }
}

/** When a hit was sent, short: "14:05" today, "12 Mar, 14:05" this year, else with the year. */
export function hitTimeLabel(ts, now, { locale, timeZone } = {}) {
  const day = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
  const [d, today] = [day.format(ts), day.format(now)];
  const options = d === today
    ? { hour: 'numeric', minute: '2-digit' }
    : d.slice(0, 4) === today.slice(0, 4)
      ? { day: 'numeric', month: 'short', hour: 'numeric', minute: '2-digit' }
      : { day: 'numeric', month: 'short', year: 'numeric', hour: 'numeric', minute: '2-digit' };
  return new Intl.DateTimeFormat(locale, { ...options, timeZone }).format(ts);
}
