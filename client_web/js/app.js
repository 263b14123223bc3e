// The chat app page: wires the connection, the outbox, the channel logs and the views.
//
// Data flow: the Connection delivers hello/pushes → this controller updates its model
// (channels with lastSeq/readSeq, one ChannelLog per opened channel, the Outbox) → views render
// from the model, at most once per animation frame. User actions go the other way as requests.

import { Connection, RequestError } from './net/connection.js';
import { LocalError } from './net/codes.js';
import { Outbox } from './model/outbox.js';
import { Store, browserStorage } from './model/storage.js';
import { Drafts } from './model/drafts.js';
import { ChannelLog, messageKey } from './model/channel-log.js';
import { buildTimeline } from './model/timeline.js';
import { pageTitle, unreadTotals } from './model/unread.js';
import { sortByName, touchRecent } from './model/channel-list.js';
import { cidKey } from './net/ids.js';
import { IdleTracker } from './model/presence.js';
import { byId, frameScheduler, replaceChildren } from './views/dom.js';
import { MessageView } from './views/messages.js';
import { Sidebar } from './views/sidebar.js';
import { ChannelBrowser, ChannelCreator, LoginDialog, MembersDialog, Switcher, errorText, wireCloseButtons } from './views/dialogs.js';

const HISTORY_PAGE = 50;
const GAP_PAGE = 100;
const DRAFT_SAVE_MS = 300; // typing writes storage at most this often
const TYPING_SEND_MS = 3000; // PROTOCOL.md §5.13: at most every 3 s
const TYPING_SHOW_MS = 5000; // §6: expire a typing notice after 5 s
const READ_DEBOUNCE_MS = 250;
const ANNOUNCE_MS = 1500; // coalesce live-region announcements of bursts
const MAX_HELD_PER_CHANNEL = 2000; // older messages are dropped from memory (reloaded on scroll)
const THEMES = ['auto', 'light', 'dark'];
const THEME_KEY = 'chatd:theme';

const storage = browserStorage();

// Anything the CSP blocks is a bug in this client: keep a record the tests assert is empty.
const cspViolations = [];
document.addEventListener('securitypolicyviolation', (ev) => {
  cspViolations.push(`${ev.violatedDirective} ${ev.blockedURI}`);
});

function applyTheme(theme) {
  if (theme === 'light' || theme === 'dark') document.documentElement.dataset.theme = theme;
  else delete document.documentElement.dataset.theme;
}

function storedTheme() {
  try {
    const t = storage?.getItem(THEME_KEY);
    return THEMES.includes(t) ? t : 'auto';
  } catch {
    return 'auto';
  }
}
applyTheme(storedTheme());

function utf8Length(s) {
  return new TextEncoder().encode(s).length;
}

class App {
  constructor() {
    this.conn = new Connection({
      url: `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/ws`,
      createSocket: (url) => new WebSocket(url),
      resume: () => this.resumeEntries(),
    });
    this.me = null;
    this.store = null;
    this.outbox = null;
    this.drafts = null;
    /** @type {Map<number, object>} id → {id, name, description, private, role, lastSeq, readSeq} */
    this.channels = new Map();
    /** @type {Map<number, ChannelLog>} */
    this.logs = new Map();
    this.activeId = null;
    this.favourites = new Set();
    this.recent = [];
    this.limits = { body_bytes: 16384, frame_bytes: 65536 };
    this.clockOffsetMs = 0;
    /** @type {Map<number, Map<number, {display: string, until: number}>>} */
    this.typing = new Map();
    /** @type {Map<number, string>} user id → "online" | "away" | "offline" (members, pushes) */
    this.presence = new Map();
    this.idle = new IdleTracker();
    this.loadErrors = new Map();
    this.gapFilling = new Set();
    this.usableMarked = false;
    this._typingSentAt = 0;
    this._readTimer = null;
    this._readPending = new Map();
    this._draftTimer = null;
    this._announce = [];
    this._announceTimer = null;

    this.els = {
      app: byId('app'),
      composer: byId('composer'),
      input: byId('composer-input'),
      send: byId('send-button'),
      composerError: byId('composer-error'),
      title: byId('channel-name'),
      icon: byId('channel-icon'),
      desc: byId('channel-desc'),
      fav: byId('fav-button'),
      connText: byId('conn-text'),
      connRetry: byId('conn-retry'),
      typing: byId('typing'),
      live: byId('live'),
      menu: byId('menu-button'),
      scrim: byId('scrim'),
    };
    this.view = new MessageView(
      { scroller: byId('scroller'), list: byId('message-list'), top: byId('history-top'), jump: byId('jump-button') },
      {
        loadOlder: () => this.loadOlder(this.activeId),
        atBottomChanged: (atBottom) => atBottom && this.scheduleRead(),
        retry: (cid) => this.outbox?.retry(cid),
        discard: (cid) => this.outbox?.discard(cid),
        jumped: () => this.els.input.focus(),
      },
    );
    this.sidebar = new Sidebar(
      { nav: byId('channel-nav'), filter: byId('channel-filter') },
      {
        open: (ch) => this.open(ch, { focus: true }),
        data: () => ({
          channels: this.channelList(),
          favourites: this.favourites,
          recent: this.recent,
          activeId: this.activeId,
          drafts: new Set(this.drafts ? this.drafts.channels() : []),
        }),
      },
    );
    this.switcher = new Switcher(this);
    this.creator = new ChannelCreator(this);
    this.browser = new ChannelBrowser(this);
    this.members = new MembersDialog(this);
    this.login = new LoginDialog(this);
    wireCloseButtons();

    this.renderMessages = frameScheduler(() => this._renderMessages());
    this.renderSidebar = frameScheduler(() => {
      this.sidebar.render();
      this._renderTitle();
    });
    this._wireConnection();
    this._wireComposer();
    this._wireChrome();
    this._renderStatus();
  }

  start() {
    this.conn.start();
  }

  // --- model helpers ------------------------------------------------------------------------

  channelList() {
    return [...this.channels.values()];
  }

  /** Send a request (rejects with RequestError; "offline" when not connected). */
  request(op, fields) {
    return this.conn.request(op, fields);
  }

  /** [ch, tail] for every channel whose messages are held (hello.resume, PROTOCOL.md §10). */
  resumeEntries() {
    const out = [];
    for (const [ch, log] of this.logs) if (log.loaded && this.channels.has(ch)) out.push([ch, log.tail]);
    return out;
  }

  upsertChannel(c) {
    if (!c || !Number.isSafeInteger(c.id)) return;
    const old = this.channels.get(c.id);
    this.channels.set(c.id, {
      id: c.id,
      name: String(c.name),
      description: String(c.description ?? ''),
      private: !!c.private,
      role: c.role === 'owner' ? 'owner' : 'member',
      lastSeq: Math.max(old ? old.lastSeq : 0, c.last_seq ?? 0),
      readSeq: Math.max(old ? old.readSeq : 0, c.read_seq ?? 0),
    });
    if (!this.logs.has(c.id)) this.logs.set(c.id, new ChannelLog(c.id));
    this.renderSidebar();
    if (c.id === this.activeId) this._renderHeader();
  }

  removeChannel(ch) {
    this.channels.delete(ch);
    this.logs.delete(ch);
    this.typing.delete(ch);
    if (this.activeId === ch) {
      this.activeId = null;
      this._openDefault();
    }
    this.renderSidebar();
  }

  async join(ch) {
    const ok = await this.request('channel.join', { ch });
    this.upsertChannel(ok.channel);
    return ok.channel;
  }

  // --- connection ---------------------------------------------------------------------------

  _wireConnection() {
    const conn = this.conn;
    conn.on('status', () => {
      if (conn.status !== 'online') this.outbox?.offline();
      this._renderStatus();
    });
    conn.on('ready', (ok) => this._onReady(ok));
    conn.on('expired', () => {
      this.login.open(this.me?.name, 'Your session ended. Log in to continue — your drafts and unsent messages are kept.');
    });
    conn.on('msg', (m) => this._onMsg(m));
    conn.on('caughtup', (f) => {
      const log = this.logs.get(f.ch);
      if (log && log.loaded && f.seq > log.tail) this.fillGap(f.ch);
    });
    conn.on('resync', (f) => {
      const c = this.channels.get(f.ch);
      if (c) c.lastSeq = Math.max(c.lastSeq, f.seq);
      const log = this.logs.get(f.ch);
      if (log) log.reset();
      if (f.ch === this.activeId) this.loadLatest(f.ch);
      this.renderSidebar();
    });
    conn.on('channel.added', (f) => this.upsertChannel(f.channel));
    conn.on('channel.updated', (f) => this.upsertChannel(f.channel));
    conn.on('channel.removed', (f) => this.removeChannel(f.ch));
    conn.on('read', (f) => {
      const c = this.channels.get(f.ch);
      if (c && f.seq > c.readSeq) {
        c.readSeq = f.seq;
        this.renderSidebar();
      }
    });
    conn.on('typing', (f) => this._onTyping(f));
    conn.on('presence', (f) => {
      if (!Number.isSafeInteger(f.user) || typeof f.state !== 'string') return;
      this.presence.set(f.user, f.state);
      this.members.renderList();
    });
    // Away after minutes without input (PROTOCOL.md §6); the server resets it per connection.
    this.idle.on('change', (state) => {
      if (conn.status === 'online') this.request('presence.set', { state }).catch(() => {});
    });
    for (const type of ['keydown', 'pointerdown', 'pointermove', 'wheel', 'focus']) {
      addEventListener(type, () => this.idle.activity(), { passive: true, capture: true });
    }
    conn.on('warning', (w) => console.warn('chatd:', w.message));
    // Back online, or the tab is visible again after a long sleep: do not wait for the backoff.
    addEventListener('online', () => conn.reconnectNow());
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible') {
        if (conn.status === 'offline') conn.reconnectNow();
        this.scheduleRead();
      }
    });
  }

  _onReady(ok) {
    const user = ok.user;
    if (this.me && this.me.id !== user.id) {
      // Someone else logged in in the dialog: this page's state belongs to the previous user.
      location.reload();
      return;
    }
    if (!this.me) this._setUser(user);
    this.me.display = user.display;
    this.limits = { ...this.limits, ...(ok.limits ?? {}) };
    if (Number.isSafeInteger(ok.server_time)) this.clockOffsetMs = ok.server_time - Date.now();

    const present = new Set();
    for (const c of ok.channels ?? []) {
      present.add(c.id);
      // hello's counts are authoritative at this moment: replace, do not max() the read marker
      // with a stale local one from before a reload… but never move it backwards either.
      const old = this.channels.get(c.id);
      this.channels.delete(c.id);
      this.upsertChannel({ ...c, read_seq: Math.max(c.read_seq ?? 0, old ? old.readSeq : 0) });
    }
    for (const ch of [...this.channels.keys()]) if (!present.has(ch)) this.removeChannel(ch);

    this.outbox.online((op, fields) => this.conn.request(op, fields));
    if (this.idle.state === 'away') this.request('presence.set', { state: 'away' }).catch(() => {});
    if (this.activeId === null || !this.channels.has(this.activeId)) this._openDefault();
    else if (!this.logs.get(this.activeId)?.loaded) this.loadLatest(this.activeId);
    // Channels whose latest page was on its way when the connection dropped are reloaded.
    for (const [ch, log] of this.logs) if (log.state === 'loading' && ch !== this.activeId) log.reset();
    this.renderSidebar();
    this.renderMessages();
  }

  _setUser(user) {
    this.me = { id: user.id, name: user.name, display: user.display };
    this.store = new Store(storage, `chatd:v1:u${user.id}:`);
    this.outbox = new Outbox({ store: this.store });
    this.drafts = new Drafts(this.store);
    const favs = this.store.get('favourites', []);
    this.favourites = new Set(Array.isArray(favs) ? favs.filter(Number.isSafeInteger) : []);
    const recent = this.store.get('recent', []);
    this.recent = Array.isArray(recent) ? recent.filter(Number.isSafeInteger) : [];
    this.outbox.on('change', (e) => {
      if (e.ch === this.activeId) this.renderMessages();
    });
    this.outbox.on('acked', (e) => {
      const log = this.logs.get(e.ch);
      if (log && log.hasKey(messageKey(this.me.id, e.cid))) this.outbox.settle(e.cid);
      const c = this.channels.get(e.ch);
      if (c && e.ack) c.lastSeq = Math.max(c.lastSeq, e.ack.seq);
    });
    byId('me-display').textContent = user.display;
    byId('me-name').textContent = user.name;
    // Another tab of this user queued messages or changed a draft: pick them up.
    addEventListener('storage', (ev) => {
      if (!ev.key || !ev.key.startsWith(this.store.prefix)) return;
      if (ev.key.startsWith(`${this.store.prefix}outbox:`)) {
        this.outbox.load();
        if (this.conn.status === 'online') this.outbox.online((op, fields) => this.conn.request(op, fields));
        this.renderMessages();
      }
    });
  }

  _openDefault() {
    const stored = this.store?.get('active', null);
    const list = sortByName(this.channelList());
    const general = list.find((c) => c.name === 'general');
    const target = (Number.isSafeInteger(stored) && this.channels.has(stored) ? stored : null) ?? general?.id ?? list[0]?.id ?? null;
    if (target !== null) this.open(target, { focus: !this.login.isOpen });
    else this._renderEmpty();
  }

  _onMsg(m) {
    const c = this.channels.get(m.ch);
    if (!c || !Number.isSafeInteger(m.seq)) return;
    const isNew = m.seq > c.lastSeq; // not a replay of something already counted
    const wasRead = c.readSeq >= c.lastSeq;
    c.lastSeq = Math.max(c.lastSeq, m.seq);
    const own = this.me && m.user === this.me.id;
    // My own message does not make a channel unread if it was read up to there.
    if (own && wasRead && c.readSeq >= m.seq - 1) c.readSeq = Math.max(c.readSeq, m.seq);
    const log = this.logs.get(m.ch);
    const result = log ? log.addLive(m) : 'ignored';
    if (result === 'gap') this.fillGap(m.ch);
    if (own && m.cid instanceof Uint8Array && m.cid.length === 16) this.outbox?.settle(cidKey(m.cid));
    this._clearTyping(m.ch, m.user);
    if ((result === 'added' || result === 'gap') && log.messages.length > MAX_HELD_PER_CHANNEL && (m.ch !== this.activeId || this.view.atBottom)) {
      log.trimOldest(MAX_HELD_PER_CHANNEL);
    }
    if (m.ch === this.activeId && (result === 'added' || result === 'gap')) {
      if (!own) this.view.noteNewBelow();
      this.renderMessages();
      this.scheduleRead();
    }
    if (isNew && !own && (m.ch !== this.activeId || document.visibilityState !== 'visible')) {
      this._queueAnnouncement(m.ch, m.display, m.body);
    }
    this.renderSidebar();
  }

  _onTyping(f) {
    if (!this.me || f.user === this.me.id || !this.channels.has(f.ch)) return;
    let map = this.typing.get(f.ch);
    if (!map) {
      map = new Map();
      this.typing.set(f.ch, map);
    }
    map.set(f.user, { display: String(f.display ?? ''), until: Date.now() + TYPING_SHOW_MS });
    this._renderTyping();
    setTimeout(() => this._renderTyping(), TYPING_SHOW_MS + 50);
  }

  _clearTyping(ch, user) {
    const map = this.typing.get(ch);
    if (map && map.delete(user) && ch === this.activeId) this._renderTyping();
  }

  // --- history ------------------------------------------------------------------------------

  async loadLatest(ch) {
    const log = this.logs.get(ch);
    if (!log || log.state === 'loading') return;
    log.beginLoad();
    this.loadErrors.delete(ch);
    if (ch === this.activeId) this.renderMessages();
    if (this.conn.status !== 'online') {
      log.loadFailed(); // retried by _onReady
      return;
    }
    try {
      const ok = await this.request('history', { ch, limit: HISTORY_PAGE });
      if (this.logs.get(ch) !== log || log.state !== 'loading') return;
      const { gap } = log.setLatest(ok.messages ?? [], ok.more);
      for (const e of this.outbox.forChannel(ch)) if (log.hasKey(messageKey(this.me.id, e.cid))) this.outbox.settle(e.cid);
      if (gap) this.fillGap(ch);
      const c = this.channels.get(ch);
      if (c) c.lastSeq = Math.max(c.lastSeq, log.lastSeq);
    } catch (err) {
      if (this.logs.get(ch) !== log) return;
      log.loadFailed();
      if (err instanceof RequestError && err.code !== LocalError.OFFLINE && err.code !== LocalError.DISCONNECTED) {
        this.loadErrors.set(ch, `Could not load the messages: ${errorText(err)}`);
      }
    }
    if (ch === this.activeId) {
      this.view.atBottom = true;
      this.renderMessages();
      this.scheduleRead();
    }
  }

  async loadOlder(ch) {
    const log = this.logs.get(ch);
    if (!log || !log.loaded || !log.hasOlder || log.loadingOlder || this.conn.status !== 'online') return;
    log.loadingOlder = true;
    this.renderMessages();
    try {
      const ok = await this.request('history', { ch, before: log.firstSeq, limit: HISTORY_PAGE });
      if (this.logs.get(ch) !== log) return;
      log.addOlder(ok.messages ?? [], ok.more);
    } catch {
      log.loadingOlder = false; // scrolling again retries
    }
    if (ch === this.activeId) this.renderMessages();
  }

  /** Fetch the messages missing after the log's tail (a gap seen in live traffic). */
  async fillGap(ch) {
    if (this.gapFilling.has(ch)) return;
    this.gapFilling.add(ch);
    try {
      for (let guard = 0; guard < 50; guard++) {
        const log = this.logs.get(ch);
        if (!log || !log.loaded || this.conn.status !== 'online') break;
        const ok = await this.request('history', { ch, after: log.tail, limit: GAP_PAGE });
        const stillMissing = log.addAfter(ok.messages ?? []);
        if (!(ok.messages ?? []).length || (!stillMissing && !ok.more)) break;
      }
    } catch {
      // the next reconnect resumes from the tail anyway
    } finally {
      this.gapFilling.delete(ch);
    }
    if (ch === this.activeId) this.renderMessages();
  }

  // --- read markers -------------------------------------------------------------------------

  /**
   * The reader sees the newest messages of the open channel: mark them read now (badge and
   * title update at once) and tell the server shortly after (one request per burst).
   */
  scheduleRead() {
    const ch = this.activeId;
    const c = this.channels.get(ch);
    const log = this.logs.get(ch);
    if (!c || !log || !log.loaded || document.visibilityState !== 'visible' || !this.view.atBottom) return;
    const seq = log.lastSeq;
    if (seq <= c.readSeq) return;
    c.readSeq = seq;
    this.renderSidebar();
    this._readPending.set(ch, seq);
    if (this._readTimer === null) {
      this._readTimer = setTimeout(() => {
        this._readTimer = null;
        const pending = [...this._readPending];
        this._readPending.clear();
        for (const [rch, rseq] of pending) this.request('read', { ch: rch, seq: rseq }).catch(() => {});
      }, READ_DEBOUNCE_MS);
    }
  }

  // --- opening channels ---------------------------------------------------------------------

  /** Show channel `ch`. */
  open(ch, { focus = false } = {}) {
    const c = this.channels.get(ch);
    if (!c) return;
    if (this.activeId !== null && this.activeId !== ch) this._saveDraft();
    const changed = this.activeId !== ch;
    this.activeId = ch;
    this.recent = touchRecent(this.recent, ch);
    this.store?.set('recent', this.recent);
    this.store?.set('active', ch);
    this._closeNav();
    if (changed) {
      this.view.switchTo(ch);
      this.els.input.value = this.drafts ? this.drafts.get(ch) : '';
      this._autosize();
      this._showComposerError(null);
    }
    this.els.input.disabled = false;
    this.els.send.disabled = false;
    this._renderHeader();
    this._renderTyping();
    const log = this.logs.get(ch);
    if (log && log.state === 'empty') this.loadLatest(ch);
    this.renderMessages();
    this.renderSidebar();
    this.scheduleRead();
    if (focus) this.els.input.focus();
  }

  _renderHeader() {
    const c = this.channels.get(this.activeId);
    if (!c) return;
    this.els.title.textContent = c.name;
    this.els.icon.textContent = c.private ? '' : '#';
    this.els.icon.className = c.private ? 'channel-icon icon icon-lock' : 'channel-icon';
    this.els.desc.textContent = c.description;
    this.els.desc.hidden = !c.description;
    const fav = this.favourites.has(c.id);
    this.els.fav.setAttribute('aria-pressed', fav ? 'true' : 'false');
    this.els.fav.title = fav ? 'Remove from favourites' : 'Add to favourites';
    byId('fav-icon').textContent = fav ? '★' : '☆';
    byId('invite-button').hidden = c.private && c.role !== 'owner';
    this.els.input.placeholder = `Message ${c.private ? '' : '#'}${c.name}`;
    byId('composer-label').textContent = `Message ${c.name}`;
  }

  _renderEmpty() {
    this.els.title.textContent = 'No channel';
    replaceChildren(byId('history-top'), 'You are not in any channel yet. Browse or create one.');
  }

  _renderMessages() {
    const ch = this.activeId;
    const log = this.logs.get(ch);
    const c = this.channels.get(ch);
    if (!log || !c || !this.me) return;
    const entries = this.outbox ? this.outbox.forChannel(ch) : [];
    const items = buildTimeline(log.messages, entries, { me: this.me, now: Date.now() + this.clockOffsetMs, clockOffsetMs: this.clockOffsetMs });
    this.view.render(items, {
      state: log.state,
      hasOlder: log.hasOlder,
      loadingOlder: log.loadingOlder,
      error: this.loadErrors.get(ch),
      name: c.name,
    });
    if (log.loaded && !this.usableMarked) {
      this.usableMarked = true;
      performance.mark('chatd:usable');
    }
    // Short pages do not scroll, so no scroll event would ask for more: check after rendering.
    if (log.loaded && log.hasOlder && this.view.scroller.scrollTop < 400 && !log.loadingOlder) {
      this.loadOlder(ch);
    }
  }

  _renderTitle() {
    const totals = unreadTotals(this.channelList());
    const c = this.channels.get(this.activeId);
    const title = pageTitle(totals.messages, c ? c.name : null);
    if (document.title !== title) document.title = title;
  }

  _renderTyping() {
    const map = this.typing.get(this.activeId);
    const now = Date.now();
    const names = [];
    if (map) {
      for (const [user, t] of map) {
        if (t.until <= now) map.delete(user);
        else names.push(t.display);
      }
    }
    let text = '';
    if (names.length === 1) text = `${names[0]} is typing…`;
    else if (names.length === 2) text = `${names[0]} and ${names[1]} are typing…`;
    else if (names.length > 2) text = 'Several people are typing…';
    if (this.els.typing.textContent !== text) this.els.typing.textContent = text;
  }

  _renderStatus() {
    const conn = this.conn;
    const status = conn.status;
    this.els.app.dataset.status = status;
    let text = '';
    if (status === 'connecting' || status === 'stopped') text = 'connecting…';
    else if (status === 'offline') text = `offline — retrying in ${Math.max(1, conn.retryInSecs())} s`;
    else if (status === 'failed') text = `cannot connect (${conn.lastClose.reason || conn.lastClose.code}) — retrying in ${Math.max(1, conn.retryInSecs())} s`;
    else if (status === 'expired') text = 'session expired — log in to continue';
    if (this.els.connText.textContent !== text) this.els.connText.textContent = text;
    this.els.connRetry.hidden = !(status === 'offline' || status === 'failed');
    // Count down while waiting to retry.
    clearTimeout(this._statusTimer);
    if (status === 'offline' || status === 'failed') this._statusTimer = setTimeout(() => this._renderStatus(), 1000);
  }

  // --- composer -----------------------------------------------------------------------------

  _wireComposer() {
    const input = this.els.input;
    this.els.composer.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.sendComposer();
    });
    input.addEventListener('keydown', (ev) => {
      // Enter sends; Shift+Enter is a new line; Enter that confirms an IME composition is not a send.
      if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing && ev.keyCode !== 229) {
        ev.preventDefault();
        this.sendComposer();
      }
    });
    input.addEventListener('input', () => {
      this._autosize();
      this._showComposerError(null);
      clearTimeout(this._draftTimer);
      this._draftTimer = setTimeout(() => this._saveDraft(), DRAFT_SAVE_MS);
      this._sendTyping();
    });
    // The page may go away at any moment: keep the draft.
    addEventListener('pagehide', () => this._saveDraft());
    document.addEventListener('visibilitychange', () => document.visibilityState === 'hidden' && this._saveDraft());
  }

  _saveDraft() {
    clearTimeout(this._draftTimer);
    if (this.drafts && this.activeId !== null) {
      const before = this.drafts.get(this.activeId);
      this.drafts.set(this.activeId, this.els.input.value);
      if ((before === '') !== (this.els.input.value.trim() === '')) this.renderSidebar();
    }
  }

  _sendTyping() {
    const now = Date.now();
    if (this.conn.status !== 'online' || !this.els.input.value.trim() || now - this._typingSentAt < TYPING_SEND_MS) return;
    this._typingSentAt = now;
    this.request('typing', { ch: this.activeId }).catch(() => {});
  }

  sendComposer() {
    const ch = this.activeId;
    const body = this.els.input.value;
    if (ch === null || !this.outbox) return;
    if (!body.trim()) return;
    const bytes = utf8Length(body);
    if (bytes > this.limits.body_bytes) {
      this._showComposerError(`This message is too long: ${bytes} bytes, the limit is ${this.limits.body_bytes}.`);
      return;
    }
    this.outbox.add(ch, body);
    this.els.input.value = '';
    this._autosize();
    this.drafts.clear(ch);
    this._typingSentAt = 0;
    this.view.scrollToBottom();
    this.renderMessages();
    this.renderSidebar();
  }

  _autosize() {
    const input = this.els.input;
    // element.style is CSSOM, which the CSP allows (it forbids style attributes in markup).
    input.style.height = 'auto';
    input.style.height = `${Math.min(input.scrollHeight + 2, 240)}px`;
  }

  _showComposerError(text) {
    const el = this.els.composerError;
    el.hidden = !text;
    el.textContent = text ?? '';
  }

  // --- announcements (live region) ----------------------------------------------------------

  _queueAnnouncement(ch, display, body) {
    const c = this.channels.get(ch);
    this._announce.push({ name: c ? c.name : '', display, body });
    if (this._announceTimer) return;
    this._announceTimer = setTimeout(() => {
      const list = this._announce;
      this._announce = [];
      this._announceTimer = null;
      let text;
      if (list.length === 1) {
        const a = list[0];
        text = `${a.display} in ${a.name}: ${a.body.length > 140 ? `${a.body.slice(0, 140)}…` : a.body}`;
      } else {
        const where = [...new Set(list.map((a) => a.name))];
        text = `${list.length} new messages in ${where.slice(0, 3).join(', ')}${where.length > 3 ? ' and more' : ''}`;
      }
      this.els.live.textContent = text;
    }, ANNOUNCE_MS);
  }

  // --- chrome: header buttons, keyboard, theme, narrow layout --------------------------------

  _wireChrome() {
    byId('browse-button').addEventListener('click', () => this.browser.open());
    byId('create-button').addEventListener('click', () => this.creator.open());
    byId('switcher-button').addEventListener('click', () => this.switcher.open());
    byId('members-button').addEventListener('click', () => this.activeId !== null && this.members.open(this.activeId));
    byId('invite-button').addEventListener('click', () => this.activeId !== null && this.members.open(this.activeId, { invite: true }));
    this.els.connRetry.addEventListener('click', () => this.conn.reconnectNow());
    this.els.fav.addEventListener('click', () => {
      const ch = this.activeId;
      if (ch === null) return;
      if (this.favourites.has(ch)) this.favourites.delete(ch);
      else this.favourites.add(ch);
      this.store?.set('favourites', [...this.favourites]);
      this._renderHeader();
      this.renderSidebar();
    });
    const themeButton = byId('theme-button');
    const showTheme = () => {
      themeButton.textContent = `Theme: ${storedTheme()}`;
    };
    showTheme();
    themeButton.addEventListener('click', () => {
      const next = THEMES[(THEMES.indexOf(storedTheme()) + 1) % THEMES.length];
      try {
        storage?.setItem(THEME_KEY, next);
      } catch {
        // not persisted; applied for this page anyway
      }
      applyTheme(next);
      themeButton.textContent = `Theme: ${next}`;
    });
    byId('logout-button').addEventListener('click', async () => {
      this._saveDraft();
      try {
        await fetch('/api/logout', { method: 'POST', credentials: 'same-origin', headers: { Accept: 'application/json' } });
      } finally {
        location.assign('/login');
      }
    });
    this.els.menu.addEventListener('click', () => (this.els.app.classList.contains('nav-open') ? this._closeNav() : this._openNav()));
    this.els.scrim.addEventListener('click', () => this._closeNav());

    document.addEventListener('keydown', (ev) => this._globalKey(ev));
  }

  _openNav() {
    this.els.app.classList.add('nav-open');
    this.els.menu.setAttribute('aria-expanded', 'true');
    this.els.scrim.hidden = false;
    byId('channel-filter').focus();
  }

  _closeNav() {
    if (!this.els.app.classList.contains('nav-open')) return;
    this.els.app.classList.remove('nav-open');
    this.els.menu.setAttribute('aria-expanded', 'false');
    this.els.scrim.hidden = true;
  }

  _globalKey(ev) {
    const mod = ev.ctrlKey || ev.metaKey;
    if (mod && !ev.altKey && !ev.shiftKey && (ev.key === 'k' || ev.key === 'K')) {
      ev.preventDefault();
      if (this.login.isOpen) return;
      for (const d of document.querySelectorAll('dialog[open]')) if (d.id !== 'switcher') d.close();
      if (!this.switcher.dialog.open) this.switcher.open();
      return;
    }
    if (document.querySelector('dialog[open]')) return; // dialogs handle their own keys
    if (ev.altKey && !mod && (ev.key === 'ArrowUp' || ev.key === 'ArrowDown')) {
      ev.preventDefault();
      const order = this.sidebar.visibleOrder();
      const i = order.indexOf(this.activeId);
      const j = ev.key === 'ArrowUp' ? i - 1 : i + 1;
      if (j >= 0 && j < order.length) this.open(order[j], { focus: true });
      return;
    }
    if (ev.key === 'Escape') {
      if (this.els.app.classList.contains('nav-open')) {
        this._closeNav();
        this.els.menu.focus();
        return;
      }
      // Esc in the conversation: back to the newest message and the message box (as in Slack).
      this.view.scrollToBottom();
      this.scheduleRead();
      this.els.input.focus();
      return;
    }
    // Typing anywhere outside a field goes to the message box.
    const t = ev.target;
    const inField = t instanceof HTMLElement && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT|BUTTON)$/.test(t.tagName));
    // (Space is left alone: on the message list it scrolls.)
    if (!inField && !mod && !ev.altKey && ev.key.length === 1 && ev.key !== ' ' && !this.els.input.disabled) {
      this.els.input.focus();
    }
  }

  /** The log-in dialog succeeded: connect again with the new session cookie. */
  reauthenticated() {
    this.conn.reconnectNow();
    this.els.input.focus();
  }
}

// --- start, and the hooks the browser tests use ------------------------------------------

const app = new App();

/** Bytes and timings of the first load, from the Resource Timing API. */
function loadMetrics() {
  const nav = performance.getEntriesByType('navigation')[0];
  const resources = performance.getEntriesByType('resource');
  const entries = nav ? [nav, ...resources] : resources;
  const sum = (key) => entries.reduce((n, e) => n + (e[key] || 0), 0);
  const usable = performance.getEntriesByName('chatd:usable')[0];
  return {
    usableMs: usable ? Math.round(usable.startTime) : null,
    domContentLoadedMs: nav ? Math.round(nav.domContentLoadedEventEnd) : null,
    requests: entries.length,
    transferBytes: sum('transferSize'),
    encodedBytes: sum('encodedBodySize'),
    decodedBytes: sum('decodedBodySize'),
    files: entries.map((e) => ({ name: e.name.replace(location.origin, ''), transfer: e.transferSize || 0, encoded: e.encodedBodySize || 0 })),
  };
}

window.__chatd = {
  app,
  metrics: loadMetrics,
  cspViolations: () => [...cspViolations],
  status: () => app.conn.status,
  debugDropConnection: () => app.conn.debugDrop(),
  debugGoOffline: () => app.conn.debugGoOffline(),
  debugGoOnline: () => app.conn.debugGoOnline(),
  debugCutAfterNextSend: () => app.conn.debugCutAfterNextSend(),
  outbox: () => (app.outbox ? app.outbox.unsent().map((e) => ({ cid: e.cid, ch: e.ch, body: e.body, status: e.status })) : []),
};

app.start();
