// Search: the panel's typing → `search` requests (PROTOCOL.md §5.16) → the SearchModel, the
// next page when the reader scrolls, and a result's click → its channel, at that message.
// Typing searches after a short pause; Enter, the order toggle and a suggestion at once.

import { RequestError } from '../net/connection.js';
import { errorText } from '../views/error-text.js';

/** Typing searches once the typist pauses this long (Enter does not wait). */
const TYPING_PAUSE_MS = 250;
const PAGE = 20;

export class SearchController {
  /**
   * @param {object} opts
   * @param {import('../net/connection.js').Connection} opts.conn
   * @param {import('../model/search.js').SearchModel} opts.model
   * @param {() => import('../views/search.js').SearchPanel} opts.view
   * @param {(ch: number, seq: number) => void} opts.openAt show a hit in its channel
   * @param {() => boolean} opts.narrow true when the panel covers the conversation
   * @param {() => string|undefined} [opts.timeZone] the IANA zone dates in queries are in
   */
  constructor({ conn, model, view, openAt, narrow, timeZone }) {
    this.conn = conn;
    this.model = model;
    this.view = view;
    this.openAt = openAt;
    this.narrow = narrow;
    this.timeZone = timeZone ?? (() => Intl.DateTimeFormat().resolvedOptions().timeZone);
    this._timer = null;
    this._last = null; // [q, order] of the search shown, so repeated events do not search again
  }

  /** The query or the order changed; `now`: search at once (Enter), else after a pause. */
  search(q, order, now) {
    clearTimeout(this._timer);
    if (!q.trim()) {
      this._last = null;
      this.model.clear();
      return;
    }
    if (now) this.run(q, order);
    else this._timer = setTimeout(() => this.run(q, order), TYPING_PAUSE_MS);
  }

  /** Search for `q` in `order` (a first page). */
  async run(q, order) {
    clearTimeout(this._timer);
    if (this._last && this._last[0] === q && this._last[1] === order && !this.model.error) return;
    this._last = [q, order];
    const generation = this.model.start(q, order);
    await this._request(generation, { q, order });
  }

  /** The next page of the search shown. */
  async more() {
    const next = this.model.startMore();
    if (!next) return;
    const m = this.model;
    await this._request(next.generation, { q: m.q, order: m.order, after: next.after });
  }

  /** Show a hit: its channel at that message (the panel stays open beside it when it fits). */
  openHit(hit) {
    this.openAt(hit.ch, hit.seq);
    if (this.narrow()) this.view().close();
  }

  async _request(generation, fields) {
    const tz = this.timeZone();
    try {
      const reply = await this.conn.request('search', { ...fields, ...(tz ? { tz } : {}), limit: PAGE });
      this.model.received(generation, reply);
    } catch (err) {
      if (generation === this.model.generation) this._last = null; // the same query may be retried
      this.model.failed(generation, err instanceof RequestError ? `Search failed: ${errorText(err)}` : 'Search failed');
    }
  }
}
