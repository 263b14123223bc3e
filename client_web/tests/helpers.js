// Test doubles shared by the unit tests: fake timers, a fake WebSocket, a fake localStorage.
import { decode, encode } from '../js/net/cbor.js';
import { MemoryBackend } from '../js/model/storage.js';

/** Timers that only move when the test calls advance(ms). */
export class FakeTimers {
  constructor(start = 1_700_000_000_000) {
    this.time = start;
    this.seq = 0;
    /** @type {Map<number, {at: number, fn: Function}>} */
    this.timers = new Map();
    this.setTimeout = (fn, ms) => {
      const id = ++this.seq;
      this.timers.set(id, { at: this.time + Math.max(0, ms), fn });
      return id;
    };
    this.clearTimeout = (id) => {
      this.timers.delete(id);
    };
    this.now = () => this.time;
  }

  /** Move time forward, running due timers in time order (and the microtasks they queue). */
  async advance(ms) {
    const end = this.time + ms;
    for (;;) {
      let next = null;
      for (const [id, t] of this.timers) {
        if (t.at <= end && (next === null || t.at < next[1].at || (t.at === next[1].at && id < next[0]))) {
          next = [id, t];
        }
      }
      if (!next) break;
      this.timers.delete(next[0]);
      this.time = Math.max(this.time, next[1].at);
      next[1].fn();
      await flush();
    }
    this.time = end;
    await flush();
  }

  /** Milliseconds until the earliest pending timer, or null. */
  nextIn() {
    let best = null;
    for (const t of this.timers.values()) best = best === null ? t.at : Math.min(best, t.at);
    return best === null ? null : best - this.time;
  }
}

/** Let pending promise callbacks run. */
export async function flush() {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

/** A WebSocket stand-in: records what the client sends, lets the test play the server. */
export class FakeSocket {
  constructor(url) {
    this.url = url;
    this.readyState = 0;
    this.sent = [];
    this.closed = null;
    this.binaryType = 'blob';
    this.onopen = this.onmessage = this.onclose = this.onerror = null;
  }

  /** Frames the client sent, decoded. */
  frames() {
    return this.sent.map((b) => decode(b));
  }

  last() {
    return decode(this.sent[this.sent.length - 1]);
  }

  send(bytes) {
    if (this.readyState !== 1) throw new Error('InvalidStateError');
    this.sent.push(bytes);
  }

  close(code, reason) {
    this.closed = { code, reason };
    this.readyState = 3;
  }

  // --- the server side ---
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }

  push(frame) {
    const bytes = encode(frame);
    this.onmessage?.({ data: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) });
  }

  pushRaw(data) {
    this.onmessage?.({ data });
  }

  serverClose(code, reason = '') {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
}

/** localStorage as the client uses it (the in-memory backend), whose writes can be made to fail. */
export class FakeStorage extends MemoryBackend {
  constructor() {
    super();
    this.failWrites = false;
  }
  setItem(k, v) {
    if (this.failWrites) throw new Error('QuotaExceededError');
    super.setItem(k, v);
  }
}

/** A hello ok frame. */
export function helloOk(rid = 1, extra = {}) {
  return {
    op: 'ok',
    rid,
    user: { id: 7, name: 'alice', display: 'Alice' },
    channels: [],
    heartbeat_ms: 10000,
    server_time: 1_700_000_000_000,
    limits: { body_bytes: 16384, frame_bytes: 65536 },
    ...extra,
  };
}
