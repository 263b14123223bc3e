// Messages with files: the outbox waits for the uploads; uploads resume after a dropped
// connection or a reload, fail with the server's reason when refused, and can be cancelled.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { Outbox } from '../js/model/outbox.js';
import { Store } from '../js/model/storage.js';
import { Uploader, blobKey } from '../js/model/uploads.js';
import { MemoryBlobStore } from '../js/lib/blob-store.js';
import { fitBox, formatBytes, tooLargeText } from '../js/model/files.js';
import { FakeStorage, FakeTimers, flush } from './helpers.js';

class FakeError extends Error {
  constructor(status, code, message = code) {
    super(message);
    this.status = status;
    this.code = code;
  }
  get transient() {
    return this.status === 0 || this.status === 423;
  }
}

/** A tus server in memory: holds bytes per upload; `dropAfter` cuts the next PATCH there. */
class FakeTus {
  constructor() {
    this.uploads = new Map();
    this.calls = [];
    this.dropAfter = null;
    this.refuseCreate = null;
    this.seq = 0;
  }
  async createUpload({ size, name }) {
    this.calls.push(['create', name]);
    if (this.refuseCreate) throw this.refuseCreate;
    const url = `/api/uploads/u${++this.seq}`;
    this.uploads.set(url, { size, name, bytes: [], deleted: false });
    return url;
  }
  async uploadOffset(url) {
    this.calls.push(['head', url]);
    const u = this.uploads.get(url);
    if (!u || u.deleted) throw new FakeError(404, 'not_found');
    return u.bytes.length;
  }
  async sendBytes(url, blob, offset, { onProgress }) {
    this.calls.push(['patch', url, offset]);
    const u = this.uploads.get(url);
    const rest = [...blob.slice(offset)];
    const n = this.dropAfter === null ? rest.length : Math.min(this.dropAfter, rest.length);
    u.bytes.push(...rest.slice(0, n));
    onProgress?.(n);
    if (this.dropAfter !== null) {
      this.dropAfter = null;
      throw new FakeError(0, 'offline', 'connection lost');
    }
    return u.bytes.length;
  }
  async uploadInfo(url) {
    const u = this.uploads.get(url);
    const complete = u.bytes.length === u.size;
    const id = url.split('/').pop().padEnd(22, 'x');
    return { id, complete, file: complete ? { id, name: u.name, size: u.size, type: 'application/pdf', kind: 'file' } : undefined };
  }
  async cancelUpload(url) {
    this.calls.push(['delete', url]);
    this.uploads.get(url).deleted = true;
  }
}

/** A Blob stand-in: what the uploader uses of one (slice). */
const bytes = (n) => ({ size: n, slice: (from) => Array.from({ length: n - from }, (_, i) => (from + i) % 256) });

function setup({ backend = new FakeStorage(), blobs = new MemoryBlobStore(), tus = new FakeTus(), timers = new FakeTimers() } = {}) {
  const store = new Store(backend, 'chatd:v1:u7:');
  const outbox = new Outbox({ store, timers, random: () => 1 });
  const uploader = new Uploader({ outbox, transport: tus, blobs, timers, random: () => 1 });
  const sent = [];
  outbox.online(async (op, fields) => {
    sent.push(fields);
    return { op: 'ack', rid: 1, ch: fields.ch, seq: sent.length, id: 100, ts: 5 };
  });
  return { backend, blobs, tus, timers, outbox, uploader, sent };
}

async function queue(s, body, files) {
  const cid = new Uint8Array(16).fill(s.outbox.items.size + 1);
  const entryFiles = [];
  for (const [i, size] of files.entries()) {
    const local = `f${i}`;
    await s.blobs.put(blobKey([...cid].map((b) => b.toString(16).padStart(2, '0')).join(''), local), bytes(size));
    entryFiles.push({ local, name: `doc${i}.pdf`, size, type: 'application/pdf' });
  }
  return s.outbox.add(1, body, entryFiles, cid);
}

describe('messages with files', () => {
  test('the message waits for its files, then carries their ids', async () => {
    const s = setup();
    const e = await queue(s, '', [1000, 10]);
    assert.equal(s.sent.length, 0, 'not sent before its files are uploaded');
    await flush();
    await flush();
    assert.equal(s.sent.length, 1);
    assert.deepEqual(s.sent[0].files, e.files.map((f) => f.id));
    assert.equal(s.sent[0].files.length, 2);
    assert.equal(s.sent[0].body, '');
    assert.equal(e.status, 'acked');
    assert.deepEqual(await s.blobs.keys(), [], 'the browser copies are dropped once uploaded');
  });

  test('a text message typed after it is not held back', async () => {
    const s = setup();
    await queue(s, 'with a file', [5000]);
    s.outbox.add(1, 'just text');
    assert.equal(s.sent[0].body, 'just text');
    await flush();
    await flush();
    assert.deepEqual(s.sent.map((f) => f.body), ['just text', 'with a file']);
  });

  test('a dropped connection resumes from the server\'s offset, never resending what it holds', async () => {
    const s = setup();
    s.tus.dropAfter = 300;
    const e = await queue(s, 'big', [1000]);
    await flush();
    assert.equal(e.status, 'pending');
    assert.equal(s.uploader.progress(e.cid, 'f0'), 300);
    await s.timers.advance(500); // the backoff
    await flush();
    const patches = s.tus.calls.filter((c) => c[0] === 'patch');
    assert.deepEqual(patches.map((c) => c[2]), [0, 300]);
    const [upload] = s.tus.uploads.values();
    assert.deepEqual(upload.bytes, bytes(1000).slice(0));
    assert.equal(e.status, 'acked');
  });

  test('a reload resumes the upload it interrupted (the url and the bytes were kept)', async () => {
    const shared = { backend: new FakeStorage(), blobs: new MemoryBlobStore(), tus: new FakeTus() };
    const before = setup(shared);
    shared.tus.dropAfter = 400;
    const e = await queue(before, 'x', [1000]);
    await flush();
    assert.ok(before.outbox.get(e.cid).files[0].url, 'the upload url is persisted with the entry');
    const after = setup(shared); // the page reloads: a new outbox and uploader on the same storage
    after.uploader.schedule();
    await flush();
    await flush();
    assert.equal(after.sent.length, 1);
    assert.deepEqual(shared.tus.calls.filter((c) => c[0] === 'create').length, 1, 'the same upload, not a new one');
    assert.deepEqual(shared.tus.calls.filter((c) => c[0] === 'patch').map((c) => c[2]), [0, 400]);
  });

  test('a refusal fails the message with the server\'s reason; out of space says text still works', async () => {
    const s = setup();
    s.tus.refuseCreate = new FakeError(507, 'insufficient_storage', 'The server is out of space for files.');
    const e = await queue(s, 'look', [100]);
    await flush();
    assert.equal(e.status, 'failed');
    assert.equal(e.error.message, 'The server is out of space for files — text messages still work.');
    s.tus.refuseCreate = null;
    s.outbox.retry(e.cid);
    await flush();
    await flush();
    assert.equal(e.status, 'acked');
  });

  test('bytes no longer in the browser: the message says to attach the file again', async () => {
    const s = setup();
    const e = s.outbox.add(1, '', [{ local: 'f0', name: 'gone.pdf', size: 10 }]);
    await flush();
    assert.equal(e.status, 'failed');
    assert.match(e.error.message, /attach it again/);
  });

  test('cancelling a file deletes its upload; a message left empty is discarded', async () => {
    const s = setup();
    s.tus.dropAfter = 10;
    const e = await queue(s, '', [1000]);
    await flush();
    await s.uploader.cancel(e.cid, 'f0');
    assert.equal(s.outbox.get(e.cid), undefined);
    assert.ok(s.tus.calls.some((c) => c[0] === 'delete'));
    assert.deepEqual(await s.blobs.keys(), []);
    await s.timers.advance(60_000);
    assert.equal(s.sent.length, 0);
  });

  test('a persisted entry with files survives a reload as it was', () => {
    const backend = new FakeStorage();
    const a = setup({ backend });
    const e = a.outbox.add(1, 'hi', [{ local: 'f0', name: 'a.pdf', size: 3 }]);
    const b = setup({ backend });
    const again = b.outbox.get(e.cid);
    assert.deepEqual(again.files.map((f) => [f.name, f.size, f.id]), [['a.pdf', 3, null]]);
  });
});

describe('file helpers', () => {
  test('sizes for people', () => {
    assert.equal(formatBytes(900), '900 bytes');
    assert.equal(formatBytes(1536), '1.5 KB');
    assert.equal(formatBytes(212 * 1024 * 1024), '212 MB');
    assert.equal(formatBytes(100 * 1024 * 1024), '100 MB');
  });

  test('a file over the limit is refused with both sizes', () => {
    assert.equal(tooLargeText({ name: 'film.mkv', size: 212 * 1024 * 1024 }, 100 * 1024 * 1024),
      '“film.mkv” is 212 MB; this server accepts files up to 100 MB.');
    assert.equal(tooLargeText({ name: 'a', size: 10 }, 10), null);
  });

  test('images fit the inline box, never enlarged', () => {
    assert.deepEqual(fitBox(4000, 3000), { width: 360, height: 270 });
    assert.deepEqual(fitBox(3000, 4000), { width: 203, height: 270 });
    assert.deepEqual(fitBox(100, 50), { width: 100, height: 50 });
  });
});
