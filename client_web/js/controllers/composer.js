// Writing: the draft of each channel (kept across reloads), `typing` notices while composing,
// and sending — the body limit checked first, then the message goes to the outbox, which
// persists it before anything leaves (outbox.js).

import { isBlank } from '../lib/text.js';

const DRAFT_SAVE_MS = 300; // typing writes storage at most this often

function utf8Length(s) {
  return new TextEncoder().encode(s).length;
}

export class ComposerController {
  /**
   * @param {object} opts
   * @param {import('../net/connection.js').Connection} opts.conn
   * @param {import('../model/session.js').Session} opts.session
   * @param {import('../views/composer.js').Composer} opts.view
   * @param {import('../model/typing.js').TypingNotifier} opts.notifier
   * @param {{draftsChanged(): void, sent(ch: number): void}} opts.callbacks draftsChanged: a
   *   channel got or lost its draft; sent: a message of ch went to the outbox
   */
  constructor({ conn, session, view, notifier, callbacks }) {
    this.conn = conn;
    this.session = session;
    this.view = view;
    this.notifier = notifier;
    this.callbacks = callbacks;
    this._draftTimer = null;
  }

  /** The text changed. */
  edited() {
    clearTimeout(this._draftTimer);
    this._draftTimer = setTimeout(() => this.saveDraft(), DRAFT_SAVE_MS);
    const ch = this.session.activeId;
    if (this.conn.status === 'online' && ch !== null) this.notifier.input(ch, !isBlank(this.view.value));
  }

  /** Keep what is in the box as the open channel's draft. */
  saveDraft() {
    clearTimeout(this._draftTimer);
    const { drafts, activeId } = this.session;
    if (!drafts || activeId === null) return;
    const before = drafts.get(activeId);
    const text = this.view.value;
    drafts.set(activeId, text);
    if ((before === '') !== isBlank(text)) this.callbacks.draftsChanged();
  }

  /** Another channel was opened: its draft goes into the box. */
  showDraft(ch) {
    this.notifier.cancel(); // a notice owed for the previous channel is not sent any more
    this.view.setValue(this.session.drafts ? this.session.drafts.get(ch) : '');
    this.view.showError(null);
  }

  /** Enter: send what is in the box to the open channel. */
  send() {
    const { activeId: ch, outbox, limits } = this.session;
    const body = this.view.value;
    if (ch === null || !outbox) return;
    if (isBlank(body)) return;
    const bytes = utf8Length(body);
    if (bytes > limits.body_bytes) {
      this.view.showError(`This message is too long: ${bytes} bytes, the limit is ${limits.body_bytes}.`);
      return;
    }
    outbox.add(ch, body);
    this.view.setValue('');
    this.session.drafts.clear(ch);
    this.notifier.messageSent(ch);
    this.callbacks.sent(ch);
  }
}
