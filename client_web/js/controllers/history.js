// Loading a channel's messages over the connection into its ChannelLog (PROTOCOL.md §5.10,
// §10): the latest page when a channel is opened, older pages as the reader scrolls up, and the
// messages missing after a gap seen in live traffic. No DOM: it tells its owner what changed.

import { RequestError } from '../net/connection.js';
import { LocalError } from '../net/codes.js';
import { messageKey } from '../model/channel-log.js';
import { errorText } from '../views/error-text.js';

const HISTORY_PAGE = 50;
const GAP_PAGE = 100;
const GAP_ROUNDS = 50; // a ceiling on one gap fill (5000 messages); the next resume does the rest

export class History {
  /**
   * @param {object} opts
   * @param {import('../net/connection.js').Connection} opts.conn
   * @param {import('../model/session.js').Session} opts.session
   * @param {import('../model/channels.js').Channels} opts.channels
   * @param {(ch: number) => void} opts.changed the log of ch changed (render it if shown)
   * @param {(ch: number) => void} opts.loaded the latest page of ch arrived (or could not)
   */
  constructor({ conn, session, channels, changed, loaded }) {
    this.conn = conn;
    this.session = session;
    this.channels = channels;
    this.changed = changed;
    this.loaded = loaded;
    /** @type {Map<number, string>} why the latest page of a channel could not be loaded */
    this.errors = new Map();
    this._gapFilling = new Set();
  }

  /** Why ch's messages could not be loaded, or undefined. */
  errorOf(ch) {
    return this.errors.get(ch);
  }

  get _online() {
    return this.conn.status === 'online';
  }

  /** Load the latest page of ch (it is opened, or was reset). */
  async loadLatest(ch) {
    const log = this.channels.log(ch);
    if (!log || log.state === 'loading') return;
    log.beginLoad();
    this.errors.delete(ch);
    this.changed(ch);
    if (!this._online) {
      log.loadFailed(); // loaded again after the next hello
      return;
    }
    try {
      const ok = await this.conn.request('history', { ch, limit: HISTORY_PAGE });
      if (this.channels.log(ch) !== log || log.state !== 'loading') return;
      const { gap } = log.setLatest(ok.messages ?? [], ok.more);
      const { outbox, me } = this.session;
      for (const e of outbox.forChannel(ch)) if (log.hasKey(messageKey(me.id, e.cid))) outbox.settle(e.cid);
      if (gap) this.fillGap(ch);
      this.channels.noteLastSeq(ch, log.lastSeq);
    } catch (err) {
      if (this.channels.log(ch) !== log) return;
      log.loadFailed();
      if (err instanceof RequestError && err.code !== LocalError.OFFLINE && err.code !== LocalError.DISCONNECTED) {
        this.errors.set(ch, `Could not load the messages: ${errorText(err)}`);
      }
    }
    this.loaded(ch);
  }

  /** Load the page before the oldest message held (the reader scrolled up). */
  async loadOlder(ch) {
    const log = this.channels.log(ch);
    if (!log || !log.loaded || !log.hasOlder || log.loadingOlder || !this._online) return;
    log.loadingOlder = true;
    this.changed(ch);
    try {
      const ok = await this.conn.request('history', { ch, before: log.firstSeq, limit: HISTORY_PAGE });
      if (this.channels.log(ch) !== log) return;
      log.addOlder(ok.messages ?? [], ok.more);
    } catch {
      log.loadingOlder = false; // scrolling again retries
    }
    this.changed(ch);
  }

  /** Fetch the messages missing after the log's tail (a gap seen in live traffic). */
  async fillGap(ch) {
    if (this._gapFilling.has(ch)) return;
    this._gapFilling.add(ch);
    try {
      for (let round = 0; round < GAP_ROUNDS; round++) {
        const log = this.channels.log(ch);
        if (!log || !log.loaded || !this._online) break;
        const ok = await this.conn.request('history', { ch, after: log.tail, limit: GAP_PAGE });
        const stillMissing = log.addAfter(ok.messages ?? []);
        if (!(ok.messages ?? []).length || (!stillMissing && !ok.more)) break;
      }
    } catch {
      // the next reconnect resumes from the tail anyway
    } finally {
      this._gapFilling.delete(ch);
    }
    this.changed(ch);
  }
}
