// From the connection into the model: hello (who I am, my channels, what to resume), the pushes
// of PROTOCOL.md §6, and sending what the outbox holds whenever the connection is up.
// (Uploads go over HTTPS on their own: model/uploads.js.)

import { messageKey } from '../model/channel-log.js';

const EXPIRED_TEXT = 'Your session ended. Log in to continue — your drafts and unsent messages are kept.';

export class Sync {
  /**
   * @param {object} opts
   * @param {import('../net/connection.js').Connection} opts.conn
   * @param {import('../model/session.js').Session} opts.session
   * @param {import('../model/channels.js').Channels} opts.channels
   * @param {import('../model/typing.js').TypingState} opts.typing
   * @param {import('../model/presence.js').Presence} opts.presence
   * @param {import('../model/presence.js').IdleTracker} opts.idle
   * @param {import('./history.js').History} opts.history
   * @param {import('./chat.js').ChatController} opts.chat
   * @param {{firstHello(me: object): void, expired(name: string|undefined, why: string): void,
   *   storage(push: object): void, counts(push: object): void, userUpdated(user: object): void}} opts.callbacks
   *   storage: the file store's space changed (admins); counts: an edit or delete moved my counts
   *   (with `mention`: it newly mentions me); userUpdated: someone's display name changed
   */
  constructor({ conn, session, channels, typing, presence, idle, history, chat, callbacks }) {
    Object.assign(this, { conn, session, channels, history, chat, idle, callbacks });
    conn.on('status', () => {
      if (conn.status !== 'online') session.outbox?.offline();
    });
    conn.on('ready', (ok) => this._ready(ok));
    conn.on('expired', () => callbacks.expired(session.me?.name, EXPIRED_TEXT));
    // The stream (PROTOCOL.md §10): messages and their changes, each at its position.
    const event = (f) => {
      const info = channels.event(f);
      if (!info) return;
      if (info.gap) history.reload(f.ch);
      chat.eventArrived(f, info);
    };
    conn.on('msg', event);
    conn.on('msg.changed', event);
    conn.on('counts', (f) => {
      channels.counts(f.ch, f.unread, f.mentions, f.seq);
      callbacks.counts?.(f);
    });
    conn.on('caughtup', (f) => channels.caughtUp(f.ch, f.seq));
    conn.on('resync', (f) => {
      channels.resync(f.ch, f.seq);
      if (f.ch === session.activeId) history.loadLatest(f.ch);
    });
    conn.on('channel.added', (f) => channels.upsert(f.channel));
    conn.on('channel.updated', (f) => channels.upsert(f.channel));
    conn.on('channel.removed', (f) => channels.remove(f.ch));
    conn.on('read', (f) => channels.readElsewhere(f.ch, f.seq, Number.isSafeInteger(f.last_seq) ? f : null));
    conn.on('user.updated', (f) => {
      channels.userUpdated(f.user);
      callbacks.userUpdated?.(f.user);
    });
    conn.on('typing', (f) => {
      if (session.me && f.user !== session.me.id && channels.has(f.ch)) typing.saw(f.ch, f.user, f.display);
    });
    conn.on('presence', (f) => presence.set(f.user, f.state));
    conn.on('storage', (f) => callbacks.storage?.(f));
    conn.on('warning', (w) => console.warn('chatd:', w.message));
    // Away after minutes without input (PROTOCOL.md §6); the server resets it per connection.
    idle.on('change', (state) => {
      if (conn.status === 'online') conn.request('presence.set', { state }).catch(() => {});
    });
  }

  /** Send every pending outbox entry (the connection is up, or another tab queued some). */
  sendOutbox() {
    this.session.outbox.online((op, fields) => this.conn.request(op, fields));
  }

  _ready(ok) {
    const { session, channels, chat } = this;
    const outcome = session.hello(ok);
    if (outcome === 'other-user') {
      // Someone else logged in in the dialog: this page's state belongs to the previous user.
      location.reload();
      return;
    }
    if (outcome === 'first') this._firstHello();
    channels.me = session.myId;
    if (Number.isSafeInteger(session.limits.away_secs)) this.idle.setAwayAfter(session.limits.away_secs * 1000);
    chat.filesEnabled(session.canUpload);
    channels.replaceAll(ok.channels ?? []);
    this.sendOutbox();
    if (this.idle.state === 'away') this.conn.request('presence.set', { state: 'away' }).catch(() => {});
    const active = session.activeId;
    if (active === null || !channels.has(active)) chat.openDefault();
    else if (!channels.log(active)?.loaded) this.history.loadLatest(active);
    // Channels whose latest page was on its way when the connection dropped are reloaded.
    for (const [ch, log] of channels.logs) if (log.state === 'loading' && ch !== session.activeId) log.reset();
    chat.renderSidebar();
    chat.renderMessages();
  }

  _firstHello() {
    const { session, channels, chat } = this;
    const outbox = session.outbox;
    outbox.on('change', (e) => {
      if (e.ch === session.activeId) chat.renderMessages();
    });
    outbox.on('acked', (e) => {
      const log = channels.log(e.ch);
      if (log && log.hasKey(messageKey(session.me.id, e.cid))) outbox.settle(e.cid);
      if (e.ack) {
        channels.noteLastSeq(e.ch, e.ack.seq);
        channels.ownMessage(e.ch, e.ack.seq);
      }
    });
    // Another tab of this user queued messages: pick them up.
    addEventListener('storage', (ev) => {
      const prefix = session.store.prefix;
      if (!ev.key || !ev.key.startsWith(`${prefix}outbox:`)) return;
      outbox.load();
      if (this.conn.status === 'online') this.sendOutbox();
      chat.renderMessages();
    });
    this.callbacks.firstHello(session.me);
  }
}
