// Loading a channel's messages over the connection into its ChannelLog (PROTOCOL.md §5.10,
// §5.11, §10): the latest page when a channel is opened, older pages as the reader scrolls up,
// the page around a search hit with its neighbours both ways, and the channel afresh when its
// stream had a gap. No DOM: it tells its owner what changed.

import { RequestError } from '../net/connection.js';
import { LocalError } from '../net/codes.js';
import { messageKey } from '../model/channel-log.js';
import { errorText } from '../views/error-text.js';

const HISTORY_PAGE = 50;
const AROUND_PAGE = 50;

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
      log.setLatest(ok.messages ?? [], ok.more);
      const { outbox, me } = this.session;
      for (const e of outbox.forChannel(ch)) if (log.hasKey(messageKey(me.id, e.cid))) outbox.settle(e.cid);
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

  /**
   * Show the messages around `seq` of ch (a search hit): the live range if it holds it, else a
   * detached range loaded with `around`.
   */
  async loadAround(ch, seq) {
    const log = this.channels.log(ch);
    if (!log) return;
    if (!log.jumpTo(seq)) {
      this.changed(ch);
      return;
    }
    const range = log.detached;
    this.changed(ch);
    try {
      const ok = await this.conn.request('around', { ch, seq, limit: AROUND_PAGE });
      if (this.channels.log(ch) !== log || log.detached !== range) return;
      log.setAround(ok.messages ?? [], ok.more_before, ok.more_after);
    } catch (err) {
      if (this.channels.log(ch) !== log || log.detached !== range) return;
      log.leaveDetached();
      this.errors.set(ch, `Could not load that message: ${errorText(err)}`);
    }
    this.changed(ch);
  }

  /** Load the page after the newest message of the detached range (the reader scrolled down). */
  loadNewer(ch) {
    const log = this.channels.log(ch);
    if (log?.detached) return this._loadDetached(ch, log, log.detached, false);
    return Promise.resolve();
  }

  /** Load the page before the oldest message shown (the reader scrolled up). */
  async loadOlder(ch) {
    const log = this.channels.log(ch);
    if (log?.detached) {
      await this._loadDetached(ch, log, log.detached, true);
      return;
    }
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

  /** A page of the detached range's history: before its first message, or after its last. */
  async _loadDetached(ch, log, range, older) {
    const [has, loading] = older ? ['hasOlder', 'loadingOlder'] : ['hasNewer', 'loadingNewer'];
    if (range.state !== 'loaded' || !range[has] || range[loading] || !this._online) return;
    range[loading] = true;
    this.changed(ch);
    const edge = older ? { before: range.firstSeq } : { after: range.lastSeq };
    try {
      const ok = await this.conn.request('history', { ch, ...edge, limit: HISTORY_PAGE });
      if (log.detached !== range) return;
      if (older) log.addDetachedOlder(ok.messages ?? [], ok.more);
      else log.addDetachedNewer(ok.messages ?? [], ok.more);
    } catch {
      range[loading] = false; // scrolling again retries
    }
    this.changed(ch);
  }

  /**
   * Events of ch were missed (a gap in its stream: it does not happen on a working connection,
   * PROTOCOL.md §14): forget what is held and load it as it is now.
   */
  reload(ch) {
    const log = this.channels.log(ch);
    if (!log) return;
    log.reset();
    if (ch === this.session.activeId) this.loadLatest(ch);
    else this.changed(ch);
  }
}
