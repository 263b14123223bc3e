// Writing: the draft of each channel (kept across reloads), `typing` notices while composing,
// files waiting to go with the next message (each refused at once if over the server's
// limit), and sending — the body limit checked first, then the message goes to the outbox,
// which persists it before anything leaves (outbox.js); its files' bytes go to the blob store
// first, so a reload cannot lose them (model/uploads.js uploads them). Whom a message mentions
// is resolved here, against the channel's members. And editing one of my messages (feature
// "edits"): the box holds its text until Enter saves it or Esc gives up.

import { isBlank } from '../lib/text.js';
import { MAX_FILES_PER_MESSAGE, tooLargeText } from '../model/files.js';
import { resolveMentions } from '../model/mentions.js';
import { blobKey } from '../model/uploads.js';
import { cidKey, newCid } from '../net/ids.js';
import { errorText } from '../views/error-text.js';

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
   * @param {import('../model/channels.js').Channels} opts.channels
   * @param {(ch: number) => Array<{id: number, name: string}>|null} opts.members a channel's members, if known
   * @param {{draftsChanged(): void, sent(ch: number): void}} opts.callbacks draftsChanged: a
   *   channel got or lost its draft; sent: a message of ch went to the outbox
   */
  constructor({ conn, session, view, notifier, channels, members, callbacks }) {
    this.conn = conn;
    this.session = session;
    this.view = view;
    this.notifier = notifier;
    this.channels = channels;
    this.members = members;
    this.callbacks = callbacks;
    /** @type {{ch: number, seq: number, draft: string}|null} the message being edited */
    this.editing = null;
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
    if (!drafts || activeId === null || this.editing) return;
    const before = drafts.get(activeId);
    const text = this.view.value;
    drafts.set(activeId, text);
    if ((before === '') !== isBlank(text)) this.callbacks.draftsChanged();
  }

  /** Another channel was opened: its draft goes into the box. */
  showDraft(ch) {
    if (this.editing) this.cancelEdit();
    this.notifier.cancel(); // a notice owed for the previous channel is not sent any more
    this.view.setValue(this.session.drafts ? this.session.drafts.get(ch) : '');
    this.view.renderStaged(this._staged.get(ch) ?? []);
    this.view.showError(null);
  }

  /** Enter: send what is in the box, and the files waiting, to the open channel. */
  async send() {
    if (this.editing) {
      await this.saveEdit();
      return;
    }
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
      outbox.add(ch, body, staged.map(({ local, name, size, type }) => ({ local, name, size, type })), cid, this._mentioning(ch, body));
    } else {
      outbox.add(ch, body, [], newCid(), this._mentioning(ch, body));
    }
    this.callbacks.sent(ch);
  }

  /** Whom `body` mentions in ch (feature "mentions"), by the members known now: the fields
   * of a send or an edit (absent when nobody). */
  _mentioning(ch, body) {
    const out = {};
    if (!this.session.features.has('mentions')) return out;
    const { mentions, all } = resolveMentions(body, this.members(ch) ?? []);
    if (mentions.length) out.mentions = mentions;
    if (all) out.all = true;
    return out;
  }

  /**
   * Edit my message `seq` of the open channel: its text goes into the box (the draft waits).
   * Returns false when it is not a message of mine that can be edited.
   */
  startEdit(seq) {
    const ch = this.session.activeId;
    const m = this.channels.log(ch)?.find(seq);
    if (!m || m.deleted || m.user !== this.session.myId || !this.session.features.has('edits')) return false;
    if (!this.editing) this.saveDraft();
    this.editing = { ch, seq, draft: this.view.value };
    this.view.setEditing('Editing your message', m.body);
    this.view.focus();
    return true;
  }

  /** ↑ in the empty box: edit my newest message of the open channel, if its window is open. */
  editLast() {
    const ch = this.session.activeId;
    const log = this.channels.log(ch);
    const windowMs = (this.session.limits.edit_secs ?? 0) * 1000;
    const now = this.session.serverNow();
    for (let i = (log?.messages.length ?? 0) - 1; i >= 0; i--) {
      const m = log.messages[i];
      if (m.user !== this.session.myId || m.deleted) continue;
      return (windowMs === 0 || now - m.ts <= windowMs) && this.startEdit(m.seq);
    }
    return false;
  }

  /** Esc: back to the draft, nothing changed. */
  cancelEdit() {
    if (!this.editing) return;
    const { draft } = this.editing;
    this.editing = null;
    this.view.setEditing(null);
    this.view.setValue(draft);
    this.view.focus();
  }

  /** Enter while editing: save the new text (the server answers when it is committed). */
  async saveEdit() {
    const { ch, seq } = this.editing;
    const body = this.view.value;
    if (isBlank(body)) {
      this.view.showError('An edited message needs some text; delete it instead.');
      return;
    }
    try {
      await this.conn.request('edit', { ch, seq, body, ...this._mentioning(ch, body) });
    } catch (err) {
      this.view.showError(`Not saved: ${errorText(err)}`);
      return;
    }
    if (this.editing?.seq === seq) this.cancelEdit();
  }
}
