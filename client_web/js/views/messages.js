// The message view: renders timeline items into the list with keyed reuse of elements, keeps
// the scroll position where the reader expects it, asks for older history near the top (and for
// newer history near the bottom of a detached range, around a search hit, which it scrolls to
// and highlights), and shows "jump to latest" when the reader is not at the bottom. A message
// shows "(edited)" (its earlier versions a click away), a deleted one "Message deleted" in its
// place; mentions of me stand out; my messages offer Edit and Delete while the window is open.

import { channelIcon, h, replaceChildren } from './dom.js';
import { filesSignature, renderFiles } from './attachments.js';
import { linkify } from '../model/linkify.js';
import { mentionSegments } from '../model/mentions.js';
import { fullTimeLabel, timeLabel } from '../model/timeline.js';

/** Within this many pixels of the bottom the reader "is at the bottom" (follows new messages). */
const BOTTOM_SLACK_PX = 48;
/** Older history is requested when the reader scrolls this close to the top. */
const LOAD_OLDER_PX = 400;
const AVATAR_COLOURS = 8;

/** Text as text nodes and safe links. */
function appendLinked(el, text) {
  for (const seg of linkify(text)) {
    if (seg.type === 'link') {
      const a = h('a', { rel: 'noopener noreferrer', target: '_blank', referrerpolicy: 'no-referrer' }, seg.text);
      a.href = seg.href;
      el.append(a);
    } else {
      el.append(seg.text);
    }
  }
}

/**
 * The body as text nodes, safe links and the names it mentions (`mentioned`: {id, name} of the
 * message's mentions that are known); `dir="auto"` lets each message find its direction.
 */
function renderBody(m, mentioned, me) {
  const body = h('div', { class: 'msg-body', dir: 'auto' });
  for (const seg of mentionSegments(m.body, mentioned, m.all, me)) {
    if (seg.mention) body.append(h('span', { class: seg.me ? 'mention mention-me' : 'mention' }, seg.text));
    else appendLinked(body, seg.text);
  }
  return body;
}

function initial(display) {
  const first = [...display.trim()][0] ?? '?';
  return first.toLocaleUpperCase();
}

const STATUS_TEXT = {
  sent: 'Sent',
  acked: 'Sent',
  sending: 'Sending…',
  pending: 'Waiting for the connection…',
  failed: 'Not sent',
};

export class MessageView {
  /**
   * @param {object} els {scroller, list, top, bottom, jump}
   * @param {object} hooks {loadOlder(), loadNewer(), atBottomChanged(atBottom), retry(cid), discard(cid), jumped(),
   *   viewImage(fileId), cancelFile(cid, local), progress(cid, local) → bytes sent, edit(seq), remove(seq),
   *   versions(seq), userName(id) → username or undefined, me() → my user id}
   */
  constructor(els, hooks) {
    this.scroller = els.scroller;
    this.list = els.list;
    this.top = els.top;
    this.bottom = els.bottom;
    this.jump = els.jump;
    this.detached = false;
    this._target = 0; // a seq to scroll to (centred) once its element exists
    this._targetShown = 0;
    this.hooks = hooks;
    /** @type {Map<string, HTMLElement>} */
    this.nodes = new Map();
    this.channel = null;
    this.atBottom = true;
    this.newBelow = 0;
    this.locale = undefined;
    this._lastCount = 0;
    this._topKey = null; // what the history-top line shows, to redraw it only when it changes
    this.scroller.addEventListener('scroll', () => this._onScroll(), { passive: true });
    // A reader at the bottom stays there when the view changes size (rotation, a growing
    // message box, a resized window).
    if (typeof ResizeObserver === 'function') {
      new ResizeObserver(() => {
        if (this.atBottom) this.scroller.scrollTop = this.scroller.scrollHeight;
      }).observe(this.scroller);
    }
    this.jump.addEventListener('click', () => {
      this.scrollToBottom();
      hooks.jumped?.();
    });
    this.list.addEventListener('click', (ev) => {
      const button = ev.target.closest('button[data-action]');
      if (!button) return;
      const cid = button.closest('.msg')?.dataset.cid;
      const action = button.dataset.action;
      if (cid && action === 'retry') hooks.retry(cid);
      if (cid && action === 'discard') hooks.discard(cid);
      if (cid && action === 'cancel-file') hooks.cancelFile?.(cid, button.dataset.local);
      if (action === 'view') hooks.viewImage?.(button.dataset.file);
      const seq = Number(button.closest('.msg')?.dataset.seq);
      if (seq > 0 && action === 'edit') hooks.edit?.(seq);
      if (seq > 0 && action === 'delete') hooks.remove?.(seq);
      if (seq > 0 && action === 'versions') hooks.versions?.(seq);
    });
  }

  /** Bytes of a file of my message `cid` went out: move its progress bar (no re-render). */
  updateProgress(cid, local, sent) {
    for (const bar of this.list.querySelectorAll(`.msg[data-cid="${cid}"] .file-local[data-local="${local}"] progress`)) {
      bar.value = sent;
    }
  }

  /** Names of mentioned people became known or changed: redraw the messages at the next render. */
  namesChanged() {
    for (const node of this.nodes.values()) node.dataset.sig = '';
  }

  /** Scroll to message `seq` when it is rendered (a search hit), instead of the bottom. */
  showTarget(seq) {
    this._target = seq;
    this._targetShown = 0;
    this.atBottom = false;
  }

  /** Show another channel: forget the elements of the previous one. */
  switchTo(ch) {
    this.channel = ch;
    this._target = 0;
    this.nodes.clear();
    this.list.replaceChildren();
    this.newBelow = 0;
    this.atBottom = true;
    this._lastCount = 0;
    this._updateJump();
  }

  isAtBottom() {
    const s = this.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight <= BOTTOM_SLACK_PX;
  }

  /** True iff the reader is close enough to the top that older history should be loaded. */
  nearTop() {
    return this.scroller.scrollTop < LOAD_OLDER_PX;
  }

  /** True iff the reader is close enough to the bottom that newer history should be loaded. */
  nearBottom() {
    const s = this.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < LOAD_OLDER_PX;
  }

  scrollToBottom() {
    this._target = 0;
    this.scroller.scrollTop = this.scroller.scrollHeight;
    this.atBottom = true;
    this.newBelow = 0;
    this._updateJump();
    this.hooks.atBottomChanged(true);
  }

  /**
   * Render `items` (from buildTimeline). Keeps the reader's place: at the bottom it follows new
   * messages; elsewhere the first visible message stays where it was (older pages prepended
   * above do not move what is being read).
   * @param {Array<object>} items
   * @param {{state: string, hasOlder: boolean, loadingOlder: boolean, error?: string, name: string, private: boolean}} info
   */
  render(items, info) {
    this.detached = !!info.detached;
    if (this.detached) this.atBottom = false;
    const wasAtBottom = this.atBottom;
    let anchor = wasAtBottom ? null : this._firstVisible();
    const anchorTop = anchor ? anchor.getBoundingClientRect().top : 0;

    const seen = new Set();
    let prev = null;
    let msgCount = 0;
    for (const item of items) {
      seen.add(item.key);
      let node = this.nodes.get(item.key);
      const sig = signature(item);
      if (!node || node.dataset.sig !== sig) {
        const fresh = item.kind === 'day' ? this._day(item) : this._message(item);
        fresh.dataset.sig = sig;
        if (node) {
          node.replaceWith(fresh);
          // The anchor's element may be rebuilt (e.g. it becomes "grouped" once older messages
          // of the same author appear above it): keep following the message, not the element.
          if (node === anchor) anchor = fresh;
        }
        node = fresh;
        this.nodes.set(item.key, node);
      }
      if (item.kind === 'msg') msgCount++;
      const expected = prev ? prev.nextSibling : this.list.firstChild;
      if (expected !== node) this.list.insertBefore(node, expected);
      prev = node;
    }
    for (const [key, node] of this.nodes) {
      if (!seen.has(key)) {
        node.remove();
        this.nodes.delete(key);
      }
    }

    this._renderTop(info, items.length === 0);
    this.bottom.hidden = !(info.detached && info.hasNewer);
    replaceChildren(this.bottom, info.loadingNewer ? 'Loading newer messages…' : '');
    const target = this._target && this._targetShown !== this._target ? this._nodeOfSeq(this._target) : null;
    if (target) {
      this._targetShown = this._target;
      target.scrollIntoView({ block: 'center' });
    } else if (wasAtBottom) {
      this.scroller.scrollTop = this.scroller.scrollHeight;
    } else if (anchor && anchor.isConnected) {
      this.scroller.scrollTop += anchor.getBoundingClientRect().top - anchorTop;
    }
    this._lastCount = msgCount;
    this._updateJump();
  }

  /** There is no channel to show: I am in none. */
  showNoChannel() {
    this._topKey = null;
    replaceChildren(this.top, 'You are not in any channel yet. Browse or create one.');
  }

  /** Count a message that arrived while the reader is scrolled up (for "jump to latest"). */
  noteNewBelow() {
    if (!this.atBottom) {
      this.newBelow++;
      this._updateJump();
    }
  }

  _renderTop(info, empty) {
    let parts = [];
    if (info.error) parts = [info.error];
    else if (info.state === 'loading' || info.state === 'empty') parts = ['Loading messages…'];
    else if (info.loadingOlder) parts = ['Loading older messages…'];
    else if (!info.hasOlder && info.dm) {
      const who = h('bdi', {}, info.name);
      parts = empty ? ['No messages with ', who, ' yet. Say hello!'] : ['This is the very beginning of your conversation with ', who, '.'];
    } else if (!info.hasOlder) {
      // The channel as it is shown everywhere else: "#name", or a lock before a private name.
      const channel = [channelIcon(info.private), h('bdi', {}, info.name)];
      parts = empty ? ['No messages in ', ...channel, ' yet. Say hello!'] : ['This is the very beginning of ', ...channel, '.'];
    }
    const state = info.error ? 'error' : info.loadingOlder || info.state !== 'loaded' ? 'loading' : info.hasOlder ? 'more' : 'start';
    const key = `${state}|${info.private ? 'private' : 'public'}|${parts.map((p) => (typeof p === 'string' ? p : p.textContent)).join('')}`;
    if (this._topKey !== key) {
      this._topKey = key;
      this.top.dataset.state = state;
      replaceChildren(this.top, ...parts);
    }
  }

  _nodeOfSeq(seq) {
    for (const node of this.list.children) if (node.dataset.seq === String(seq)) return node;
    return null;
  }

  _day(item) {
    return h('div', { class: 'day-sep', role: 'separator', 'aria-label': item.label }, h('span', {}, item.label));
  }

  _message(item) {
    const m = item.msg;
    const cls = ['msg'];
    if (item.grouped) cls.push('grouped');
    if (item.target) cls.push('target');
    if (item.own) cls.push('own');
    if (item.status) cls.push(`status-${item.status}`);
    if (m.deleted) cls.push('deleted');
    if (item.mentionsMe) cls.push('mentions-me');
    const time = h('time', { class: 'msg-time', datetime: new Date(m.ts).toISOString(), title: fullTimeLabel(m.ts, { locale: this.locale }) }, timeLabel(m.ts, { locale: this.locale }));
    const head = h(
      'div',
      { class: 'msg-head' },
      h('bdi', { class: 'msg-author' }, m.display),
      ' ',
      h('span', { class: 'msg-username' }, `@${m.name}`),
      ' ',
      time,
    );
    const gutter = item.grouped
      ? h('div', { class: 'msg-gutter' }, h('span', { class: 'msg-time-side', 'aria-hidden': 'true' }, timeLabel(m.ts, { locale: this.locale })))
      : h('div', { class: 'msg-gutter' }, h('span', { class: `avatar avatar-c${m.user % AVATAR_COLOURS}`, 'aria-hidden': 'true' }, initial(m.display)));
    const line = h('div', { class: 'msg-line' }, m.deleted ? h('div', { class: 'msg-body msg-tombstone' }, 'Message deleted') : renderBody(m, this._mentioned(m), this.hooks.me?.()));
    if (m.edited && !m.deleted) {
      line.append(' ', h('button', {
        type: 'button', class: 'link-button msg-edited', dataset: { action: 'versions' },
        title: `Edited ${fullTimeLabel(m.edited, { locale: this.locale })} — show earlier versions`,
        'aria-label': `Edited ${fullTimeLabel(m.edited, { locale: this.locale })}; show earlier versions`,
      }, '(edited)'));
    }
    const files = m.deleted ? null : renderFiles(m.files, { local: item.local, sent: (local) => this.hooks.progress?.(m.cid, local) ?? 0 });
    if (item.target) line.append(h('span', { class: 'visually-hidden' }, ' (the message you searched for)'));
    if (item.mentionsMe) line.append(h('span', { class: 'visually-hidden' }, ' (mentions you)'));
    const main = h('div', { class: 'msg-main' }, head, line, files, this._actions(item));
    if (item.own && item.status) {
      const status = h('div', { class: 'msg-status' });
      if (item.status === 'sent' || item.status === 'acked') {
        status.append(h('span', { class: 'icon icon-check', title: STATUS_TEXT.sent }), h('span', { class: 'visually-hidden' }, STATUS_TEXT.sent));
      } else if (item.status === 'failed') {
        status.append(
          h('span', { class: 'failed-text' }, `${STATUS_TEXT.failed}${item.error ? `: ${item.error.message}` : ''}`),
          ' ',
          h('button', { type: 'button', class: 'link-button', dataset: { action: 'retry' } }, 'Retry'),
          ' ',
          h('button', { type: 'button', class: 'link-button', dataset: { action: 'discard' } }, 'Discard'),
        );
      } else {
        status.append(h('span', { class: 'icon icon-clock', 'aria-hidden': 'true' }), h('span', { class: 'pending-text' }, STATUS_TEXT[item.status] ?? ''));
      }
      line.append(status);
    }
    return h(
      'article',
      {
        class: cls.join(' '),
        dataset: { seq: m.seq ? String(m.seq) : '', cid: m.cid, user: String(m.user), status: item.status || 'other' },
      },
      gutter,
      main,
    );
  }

  /** The message's mentioned users whose usernames are known (for showing their names). */
  _mentioned(m) {
    const out = [];
    for (const id of m.mentions ?? []) {
      const name = this.hooks.userName?.(id);
      if (name) out.push({ id, name });
    }
    return out;
  }

  /** Edit and Delete for who may (shown on hover and keyboard focus). */
  _actions(item) {
    if (item.local || (!item.canEdit && !item.canDelete)) return null;
    const who = item.own ? 'your message' : `the message of ${item.msg.display}`;
    return h(
      'div',
      { class: 'msg-actions' },
      item.canEdit ? h('button', { type: 'button', class: 'icon-button msg-action', dataset: { action: 'edit' }, 'aria-label': `Edit ${who}`, title: 'Edit' }, h('span', { 'aria-hidden': 'true' }, '✎')) : null,
      item.canDelete ? h('button', { type: 'button', class: 'icon-button msg-action', dataset: { action: 'delete' }, 'aria-label': `Delete ${who}`, title: 'Delete' }, h('span', { 'aria-hidden': 'true' }, '🗑')) : null,
    );
  }

  _firstVisible() {
    const top = this.scroller.getBoundingClientRect().top;
    // A message, not a date separator: a separator's key (its day) stays first when older
    // messages of the same day are prepended, so it would not move with what is being read.
    for (const node of this.list.children) {
      if (node.classList.contains('msg') && node.getBoundingClientRect().bottom > top) return node;
    }
    return null;
  }

  _onScroll() {
    if (this.detached) {
      if (this.nearBottom()) this.hooks.loadNewer();
      if (this.scroller.scrollTop < LOAD_OLDER_PX) this.hooks.loadOlder();
      return;
    }
    const atBottom = this.isAtBottom();
    if (atBottom !== this.atBottom) {
      this.atBottom = atBottom;
      if (atBottom) this.newBelow = 0;
      this._updateJump();
      this.hooks.atBottomChanged(atBottom);
    }
    if (this.scroller.scrollTop < LOAD_OLDER_PX) this.hooks.loadOlder();
  }

  _updateJump() {
    const show = !this.atBottom || this.detached;
    this.jump.hidden = !show;
    let label = this.newBelow > 0 ? `${this.newBelow} new message${this.newBelow === 1 ? '' : 's'} — jump to latest` : 'Jump to latest';
    if (this.detached) label = 'Back to the latest messages';
    if (this.jump.firstChild?.nodeValue !== label) {
      replaceChildren(this.jump, label, ' ', h('span', { 'aria-hidden': 'true' }, '↓'));
    }
  }
}

/** What an element shows; an element is rebuilt only when this changes. */
function signature(item) {
  if (item.kind === 'day') return `d|${item.label}`;
  const m = item.msg;
  return `m|${m.seq}|${m.ts}|${m.v ?? 1}|${item.grouped ? 1 : 0}|${item.status}|${item.error ? item.error.code : ''}|${m.display}|${m.body.length}|${filesSignature(m.files)}|${item.target ? 1 : 0}|${item.canEdit ? 1 : 0}${item.canDelete ? 1 : 0}|${(m.mentions ?? []).join(',')}`;
}
