// Uploading the files of outbox entries: resumable (tus, PROTOCOL.md §16.2), a few at a time,
// surviving dropped connections and reloads.
//
// - The bytes of each file are in the blob store (IndexedDB, lib/blob-store.js) under
//   `<cid>:<local>` from before its message enters the outbox until its upload is complete.
// - An upload's URL is persisted with the entry as soon as the server creates it, so after a
//   dropped connection or a reload the upload asks the server how far it got (HEAD) and sends
//   the rest from there.
// - No answer, a server hiccup, the upload busy (423) or moved on (409): tried again with the
//   reconnect backoff (0.5 s doubling to 30 s). A refusal (over the limit, quota, out of space)
//   fails the message with the server's reason; the user may retry or discard it.
// - The entry goes out (outbox.js) once every file has its server id.
//
// Events: "progress" ({cid, local, sent, size}) while bytes go out.

import { Emitter } from '../lib/emitter.js';
import { backoffDelay } from '../net/backoff.js';
import { isFileInfo, uploadErrorText } from './files.js';

const GONE_TEXT = 'This file is no longer in this browser (the page was reloaded where files cannot be kept); attach it again.';

/** The blob store key of a file of an outbox entry. */
export function blobKey(cid, local) {
  return `${cid}:${local}`;
}

class Refused extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

export class Uploader extends Emitter {
  /**
   * @param {object} opts
   * @param {import('./outbox.js').Outbox} opts.outbox
   * @param {object} opts.transport createUpload, uploadOffset, sendBytes, uploadInfo, cancelUpload (net/uploads.js)
   * @param {object} opts.blobs get, put, delete (lib/blob-store.js)
   * @param {number} [opts.concurrency] uploads at a time
   */
  constructor({ outbox, transport, blobs, timers = globalThis, random = Math.random, concurrency = 2 }) {
    super();
    Object.assign(this, { outbox, transport, blobs, timers, random, concurrency });
    /** @type {Map<string, {controller: AbortController, cid: string, local: string}>} running uploads */
    this.running = new Map();
    /** @type {Map<string, number>} bytes the server holds or got so far, by blob key */
    this.sent = new Map();
    this._attempts = new Map();
    this._waiting = new Map(); // blob key → retry timer
    outbox.on('change', (e) => (e.status === 'discarded' ? this._forgetEntry(e) : this.schedule()));
  }

  /** Bytes of a file sent so far (0 before its upload starts). */
  progress(cid, local) {
    return this.sent.get(blobKey(cid, local)) ?? 0;
  }

  /** Start what may start: files of pending entries not uploaded yet, `concurrency` at a time. */
  schedule() {
    for (const e of this.outbox.unsent()) {
      if (e.status !== 'pending' || e.foreign) continue;
      for (const f of e.files) {
        const key = blobKey(e.cid, f.local);
        if (f.id || f.error || this.running.has(key) || this._waiting.has(key)) continue;
        if (this.running.size >= this.concurrency) return;
        this._start(e, f, key);
      }
    }
  }

  /** Try every waiting upload now (the browser is back online). */
  retryNow() {
    for (const t of this._waiting.values()) this.timers.clearTimeout(t);
    this._waiting.clear();
    this.schedule();
  }

  /** The user cancelled one file of a message: stop its upload, forget it on both ends. */
  async cancel(cid, local) {
    const key = blobKey(cid, local);
    const f = this.outbox.get(cid)?.files.find((x) => x.local === local);
    this.running.get(key)?.controller.abort();
    this.running.delete(key);
    this.outbox.removeFile(cid, local);
    await this._release(key, f);
  }

  _start(e, f, key) {
    const controller = new AbortController();
    this.running.set(key, { controller, cid: e.cid, local: f.local });
    this._upload(e.cid, f, key, controller.signal)
      .then(() => this._attempts.delete(key))
      .catch((err) => this._failed(e.cid, f, key, err))
      .finally(() => {
        if (this.running.get(key)?.controller === controller) this.running.delete(key);
        this.schedule();
      });
  }

  async _upload(cid, f, key, signal) {
    const t = this.transport;
    const blob = await this.blobs.get(key);
    if (!blob) throw new Refused('file_gone', GONE_TEXT);
    let url = f.url;
    for (;;) {
      if (!url) {
        url = await t.createUpload({ size: f.size, name: f.name });
        this.outbox.fileChanged(cid, f.local, { url });
      }
      let offset;
      try {
        offset = await t.uploadOffset(url);
      } catch (err) {
        if (err && err.status === 404) {
          url = null; // expired or deleted on the server: start it again
          continue;
        }
        throw err;
      }
      this._progress(cid, f, offset);
      if (offset >= f.size) break;
      await t.sendBytes(url, blob, offset, { signal, onProgress: (n) => this._progress(cid, f, offset + n) });
    }
    const info = await t.uploadInfo(url);
    if (!info || !info.complete || !isFileInfo(info.file)) throw Object.assign(new Error('not complete yet'), { transient: true });
    this.outbox.fileChanged(cid, f.local, { id: info.file.id, info: info.file });
    await this.blobs.delete(key);
  }

  _progress(cid, f, sent) {
    this.sent.set(blobKey(cid, f.local), Math.min(sent, f.size));
    this.emit('progress', { cid, local: f.local, sent: Math.min(sent, f.size), size: f.size });
  }

  _failed(cid, f, key, err) {
    if (err && err.code === 'aborted') return; // cancelled: cancel() cleans up
    if (err && err.transient) {
      const attempt = this._attempts.get(key) ?? 0;
      this._attempts.set(key, attempt + 1);
      this._waiting.set(key, this.timers.setTimeout(() => {
        this._waiting.delete(key);
        this.schedule();
      }, backoffDelay(attempt, this.random)));
      return;
    }
    this._attempts.delete(key);
    this.outbox.fileFailed(cid, f.local, { code: err?.code ?? 'upload_failed', message: uploadErrorText(err) });
  }

  async _forgetEntry(e) {
    for (const f of e.files) {
      const key = blobKey(e.cid, f.local);
      this.running.get(key)?.controller.abort();
      this.running.delete(key);
      await this._release(key, f);
    }
  }

  /** The server's half-done upload and the browser's copy of a file nobody will send. */
  async _release(key, f) {
    this.timers.clearTimeout(this._waiting.get(key));
    this._waiting.delete(key);
    this.sent.delete(key);
    await this.blobs.delete(key);
    if (f && f.url && !f.id) await this.transport.cancelUpload(f.url).catch(() => {});
  }
}
