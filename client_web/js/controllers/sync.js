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
   *   storage(push: object): void}} opts.callbacks storage: the file store's space changed (admins)
   */
  constructor({ conn, session, channels, typing, presence, idle, history, chat, callbacks }) {
    Object.assign(this, { conn, session, channels, history, chat, idle, callbacks });
    conn.on('status', () => {
      if (conn.status !== 'online') session.outbox?.offline();
    });
    conn.on('ready', (ok) => this._ready(ok));
    conn.on('expired', () => callbacks.expired(session.me?.name, EXPIRED_TEXT));
    conn.on('msg', (m) => {
      const info = channels.addMessage(m, session.myId);
      if (info) chat.messageArrived(m, info);
    });
    conn.on('caughtup', (f) => {
      const log = channels.log(f.ch);
      if (log && log.loaded && f.seq > log.tail) history.fillGap(f.ch);
    });
    conn.on('resync', (f) => {
      channels.resync(f.ch, f.seq);
      if (f.ch === session.activeId) history.loadLatest(f.ch);
    });
    conn.on('channel.added', (f) => channels.upsert(f.channel));
    conn.on('channel.removed', (f) => channels.remove(f.ch));
    conn.on('read', (f) => channels.readElsewhere(f.ch, f.seq));
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
