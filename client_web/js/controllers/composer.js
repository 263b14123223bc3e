// Writing: the draft of each channel (kept across reloads), `typing` notices while composing,
// files waiting to go with the next message (each refused at once if over the server's
// limit), and sending — the body limit checked first, then the message goes to the outbox,
// which persists it before anything leaves (outbox.js); its files' bytes go to the blob store
// first, so a reload cannot lose them (model/uploads.js uploads them).

import { isBlank } from '../lib/text.js';
import { MAX_FILES_PER_MESSAGE, tooLargeText } from '../model/files.js';
import { blobKey } from '../model/uploads.js';
import { cidKey, newCid } from '../net/ids.js';

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
    /** @type {Map<number, Array<{local: string, file: Blob, name: string, size: number, type: string}>>} */
    this._staged = new Map();
    this._seq = 0;
  }

  _stagedOf(ch) {
    let list = this._staged.get(ch);
    if (!list) {
      list = [];
      this._staged.set(ch, list);
    }
    return list;
  }

  /** Files were chosen, pasted or dropped: keep those within the limit for the next message. */
  attach(files) {
    const { activeId: ch, limits } = this.session;
    if (ch === null || !this.session.canUpload) return;
    const list = this._stagedOf(ch);
    const refused = [];
    for (const file of files) {
      const named = { name: file.name || 'pasted image', size: file.size };
      const why = tooLargeText(named, limits.file_bytes);
      if (why) {
        refused.push(why);
      } else if (list.length >= MAX_FILES_PER_MESSAGE) {
        refused.push(`A message carries at most ${MAX_FILES_PER_MESSAGE} files.`);
        break;
      } else {
        list.push({ local: `f${this._seq++}`, file, ...named, type: file.type || '' });
      }
    }
    this.view.renderStaged(list);
    this.view.showError(refused.length ? refused.join(' ') : null);
    this.view.focus();
  }

  /** A waiting file was removed. */
  unstage(local) {
    const list = this._stagedOf(this.session.activeId).filter((f) => f.local !== local);
    this._staged.set(this.session.activeId, list);
    this.view.renderStaged(list);
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
    this.view.renderStaged(this._staged.get(ch) ?? []);
    this.view.showError(null);
  }

  /** Enter: send what is in the box, and the files waiting, to the open channel. */
  async send() {
    const { activeId: ch, outbox, limits } = this.session;
    const body = this.view.value;
    if (ch === null || !outbox) return;
    const staged = this._staged.get(ch) ?? [];
    if (isBlank(body) && !staged.length) return;
    const bytes = utf8Length(body);
    if (bytes > limits.body_bytes) {
      this.view.showError(`This message is too long: ${bytes} bytes, the limit is ${limits.body_bytes}.`);
      return;
    }
    this.view.setValue('');
    this.session.drafts.clear(ch);
    this.notifier.messageSent(ch);
    if (staged.length) {
      this._staged.delete(ch);
      this.view.renderStaged([]);
      const cid = newCid();
      // The bytes are kept before the message is queued: a reload from here on resumes it.
      await Promise.all(staged.map((f) => this.session.blobs.put(blobKey(cidKey(cid), f.local), f.file)));
      outbox.add(ch, body, staged.map(({ local, name, size, type }) => ({ local, name, size, type })), cid);
    } else {
      outbox.add(ch, body);
    }
    this.callbacks.sent(ch);
  }
}
