// The conversation on screen: which channel is open, rendering the model into the sidebar, the
// header, the message view and the typing line (at most once per animation frame each), read
// markers for what the reader sees, and following new messages.

import { buildTimeline } from '../model/timeline.js';
import { pageTitle, unreadTotals } from '../model/unread.js';
import { sortByName } from '../model/channel-list.js';
import { cidKey } from '../net/ids.js';
import { frameScheduler } from '../views/dom.js';
import { isFileInfo } from '../model/files.js';

const MAX_HELD_PER_CHANNEL = 2000; // older messages are dropped from memory (reloaded on scroll)

export class ChatController {
  /**
   * @param {object} opts
   * @param {import('../model/session.js').Session} opts.session
   * @param {import('../model/channels.js').Channels} opts.channels
   * @param {import('../model/typing.js').TypingState} opts.typing
   * @param {import('./history.js').History} opts.history
   * @param {import('./composer.js').ComposerController} opts.composer
   * @param {object} opts.views {messages, sidebar, header, composer, typingLine, drawer, announcer, viewer}
   * @param {() => boolean} opts.isLoginOpen while the log-in dialog is open, nothing takes focus
   */
  constructor({ session, channels, typing, history, composer, views, isLoginOpen }) {
    this.session = session;
    this.channels = channels;
    this.typing = typing;
    this.history = history;
    this.composer = composer;
    this.views = views;
    this.isLoginOpen = isLoginOpen;
    this._usableMarked = false;
    this.renderMessages = frameScheduler(() => this._renderMessages());
    this.renderSidebar = frameScheduler(() => {
      views.sidebar.render();
      this._renderTitle();
    });
    channels.on('change', ({ ch }) => {
      this.renderSidebar();
      if (ch === session.activeId) this.renderHeader();
    });
    channels.on('removed', ({ ch }) => this._removed(ch));
    typing.on('change', ({ ch }) => ch === session.activeId && this.renderTyping());
  }

  /** Show channel `ch`. */
  open(ch, { focus = false } = {}) {
    const c = this.channels.get(ch);
    if (!c) return;
    const s = this.session;
    if (s.activeId !== null && s.activeId !== ch) {
      this.composer.saveDraft();
      this.channels.log(s.activeId)?.leaveDetached(); // coming back shows the newest messages
    }
    const changed = s.activeId !== ch;
    s.activeId = ch;
    s.prefs?.opened(ch);
    this.views.drawer.close();
    if (changed) {
      this.views.messages.switchTo(ch);
      this.composer.showDraft(ch);
    }
    this.views.composer.enable();
    this.renderHeader();
    this.renderTyping();
    const log = this.channels.log(ch);
    if (log && log.state === 'empty') this.history.loadLatest(ch);
    this.renderMessages();
    this.renderSidebar();
    this.scheduleRead();
    this.onOpen?.(ch);
    if (focus) this.views.composer.focus();
  }

  /** The server takes files (or not): offer attaching them, and follow their uploads. */
  filesEnabled(on) {
    this.views.composer.enableFiles(on);
    const uploader = this.session.uploader;
    if (on && uploader && !this._followingUploads) {
      this._followingUploads = true;
      uploader.on('progress', ({ cid, local, sent }) => this.views.messages.updateProgress(cid, local, sent));
    }
  }

  /** A thumbnail was clicked: open the viewer on it, with the channel's other images around. */
  viewImage(fileId) {
    const log = this.channels.log(this.session.activeId);
    if (!log) return;
    const images = log.messages.flatMap((m) => m.files ?? []).filter((f) => isFileInfo(f) && f.kind === 'image' && f.w > 0 && f.h > 0);
    const index = images.findIndex((f) => f.id === fileId);
    if (index >= 0) this.views.viewer.open(images, index);
  }

  /** Open the channel of before the reload, else #general, else the first one. */
  openDefault() {
    const stored = this.session.prefs?.lastOpened() ?? null;
    const list = sortByName(this.channels.list());
    const general = list.find((c) => c.name === 'general');
    const target = (stored !== null && this.channels.has(stored) ? stored : null) ?? general?.id ?? list[0]?.id ?? null;
    if (target !== null) {
      this.open(target, { focus: !this.isLoginOpen() });
    } else {
      this.views.header.renderNone();
      this.views.messages.showNoChannel();
    }
  }

  /** Open the channel `step` places above (-1) or below (+1) the open one in the sidebar. */
  openNeighbour(step) {
    const order = this.views.sidebar.visibleOrder();
    const j = order.indexOf(this.session.activeId) + step;
    if (j >= 0 && j < order.length) this.open(order[j], { focus: true });
  }

  /**
   * Show channel `ch` at message `seq` (a search hit), highlighted, with history around it
   * that loads both ways as the reader scrolls.
   */
  openAt(ch, seq) {
    if (!this.channels.has(ch)) return;
    this.open(ch);
    this.views.messages.showTarget(seq);
    this.history.loadAround(ch, seq);
    this.renderMessages();
  }

  /** Back to the newest message of the open channel (which is then read), leaving a jump. */
  toLatest() {
    this.channels.log(this.session.activeId)?.leaveDetached();
    this.views.messages.scrollToBottom();
    this.renderMessages();
    this.scheduleRead();
  }

  /**
   * The reader may see the newest messages of the open channel: if so, mark them read (badge
   * and title update at once; Channels' "read" event tells the server).
   */
  scheduleRead() {
    const ch = this.session.activeId;
    const log = this.channels.log(ch);
    const c = this.channels.get(ch);
    if (!log || !c || !log.loaded || log.detached || document.visibilityState !== 'visible' || !this.views.messages.atBottom) return;
    // Everything this page applied is seen: up to the stream position, not only the last message
    // (an edit after it is read too).
    this.channels.markRead(ch, Math.max(log.lastSeq, c.pos));
  }

  /** The latest page of ch arrived: show it from the bottom. */
  latestLoaded(ch) {
    if (ch !== this.session.activeId) return;
    if (!this.channels.log(ch)?.detached) this.views.messages.atBottom = true;
    this.renderMessages();
    this.scheduleRead();
  }

  /** The messages of ch changed: render them if ch is on screen. */
  logChanged(ch) {
    if (ch === this.session.activeId) this.renderMessages();
  }

  /**
   * A `msg` or `msg.changed` push went into the model (Channels.event's answer `info`): follow
   * it on screen, announce it if it is news from elsewhere, and let the notifier decide.
   */
  eventArrived(f, { result, isNew, own, mention, message }) {
    const s = this.session;
    const view = this.views.messages;
    const ch = f.ch;
    const log = this.channels.log(ch);
    const onScreen = ch === s.activeId;
    const changed = f.op === 'msg.changed';
    if (!changed) {
      if (own && message.cid instanceof Uint8Array && message.cid.length === 16) s.outbox?.settle(cidKey(message.cid));
      this.typing.clear(ch, message.user);
    }
    if (result === 'added' && log.messages.length > MAX_HELD_PER_CHANNEL && (!onScreen || view.atBottom)) {
      log.trimOldest(MAX_HELD_PER_CHANNEL);
    }
    if (onScreen && (result === 'added' || result === 'changed')) {
      if (!own && result === 'added') view.noteNewBelow();
      this.renderMessages();
      this.scheduleRead();
    }
    if (!changed && isNew && !own && (!onScreen || document.visibilityState !== 'visible') && typeof message.body === 'string') {
      this.views.announcer.announce(this.channels.get(ch)?.name ?? '', message.display, message.body);
    }
    if (!changed && isNew && !own) this.onNews?.(ch, message, mention);
    if (changed) this.onChanged?.(message);
    this.renderSidebar();
  }

  renderHeader() {
    const c = this.channels.get(this.session.activeId);
    if (!c) return;
    this.views.header.render(c, { favourite: !!this.session.prefs?.isFavourite(c.id) });
    this.views.composer.describe(c);
  }

  renderTyping() {
    this.views.typingLine.render(this.typing.names(this.session.activeId));
  }

  _renderMessages() {
    const s = this.session;
    const ch = s.activeId;
    const log = this.channels.log(ch);
    const c = this.channels.get(ch);
    if (!log || !c || !s.me) return;
    const shown = log.shown;
    const entries = s.outbox && !shown.detached ? s.outbox.forChannel(ch) : [];
    const edits = s.features.has('edits');
    const items = buildTimeline(shown.messages, entries, {
      me: s.me, now: s.serverNow(), clockOffsetMs: s.clockOffsetMs,
      editWindowMs: edits ? (s.limits.edit_secs ?? 0) * 1000 : undefined,
      moderator: edits && (c.role === 'owner' || s.isAdmin),
    });
    if (log.target) for (const item of items) if (item.kind === 'msg' && item.msg.seq === log.target) item.target = true;
    const view = this.views.messages;
    view.render(items, {
      state: shown.state,
      hasOlder: shown.hasOlder,
      loadingOlder: shown.loadingOlder,
      hasNewer: shown.hasNewer,
      loadingNewer: shown.loadingNewer,
      detached: shown.detached,
      error: this.history.errorOf(ch),
      name: c.name,
      private: c.private,
      dm: !!c.dm,
    });
    if (log.loaded && !this._usableMarked) {
      this._usableMarked = true;
      performance.mark('chatd:usable');
    }
    // Short pages do not scroll, so no scroll event would ask for more: check after rendering.
    if (shown.state === 'loaded' && shown.hasOlder && view.nearTop() && !shown.loadingOlder) this.history.loadOlder(ch);
    if (shown.detached && shown.hasNewer && view.nearBottom() && !shown.loadingNewer) this.history.loadNewer(ch);
  }

  _renderTitle() {
    const totals = unreadTotals(this.channels.list());
    const c = this.channels.get(this.session.activeId);
    const title = pageTitle(totals.messages, c ? c.name : null, 'chatd', !!c?.dm);
    if (document.title !== title) document.title = title;
    this.onTotals?.(totals);
  }

  _removed(ch) {
    this.typing.forget(ch);
    if (this.session.activeId === ch) {
      this.session.activeId = null;
      this.openDefault();
    }
    this.renderSidebar();
  }
}
