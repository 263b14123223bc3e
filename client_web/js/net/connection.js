// The chatd protocol connection (protocol/PROTOCOL.md): one WebSocket, requests matched to
// replies by rid, pushes delivered as events, reconnection with exponential backoff and jitter,
// resume with the last seq held per channel, and an application-level ping when idle (§11).
//
// No DOM: the socket, the timers and the random source are injected, so the whole state machine
// runs in Node against a fake socket (client_web/tests/connection.test.js).
//
// Status (conn.status):
//   "connecting"  a socket is being opened, or hello has not been answered yet
//   "online"      hello succeeded: requests may be sent
//   "offline"     the connection was lost; a retry is scheduled at conn.retryAt
//   "expired"     the session ended (close 4001, session.expired, hello not_authenticated):
//                 nothing is retried until reconnectNow() (after the user logs in again)
//   "failed"      the server refused us for good (4003 origin, 4400 unsupported version):
//                 retried only slowly (BACKOFF_MAX_MS) in case the server gets fixed
//   "stopped"     stop() was called
//
// Events (conn.on(name, fn)):
//   "status"   {status, retryAt, attempt, code, reason}   after every status change
//   "ready"    the hello ok frame (user, channels, heartbeat_ms, server_time, limits)
//   "push"     every push frame (no rid), then also emitted under its own op ("msg", "caughtup"…)
//   "expired"  {reason}   the session ended; show a log-in form, then call reconnectNow()
//   "warning"  {message}  a frame that could not be decoded, an error without rid
//
// Numbers: every id, seq, rid and time of protocol v1 is a uint53 (PROTOCOL.md §3.2), so the CBOR
// decoder returns them as plain Numbers, exactly. cbor.js would return a BigInt only for an
// integer beyond 2^53, which no v1 frame carries; such a frame is a server bug and is refused
// here (isSafeFrame) rather than letting a BigInt leak into arithmetic.

import { decodeSequence, encode } from './cbor.js';
import { Emitter } from '../lib/emitter.js';
import { BACKOFF_MAX_MS, backoffDelay } from './backoff.js';
import { CloseCode, ErrorCode, LocalClose, LocalError } from './codes.js';

export const PROTOCOL_VERSION = 1;
export const DEFAULT_HEARTBEAT_MS = 10_000; // §11; the server tells the real value in hello
export const HANDSHAKE_TIMEOUT_MS = 15_000; // open + hello answered, else the attempt failed
export const REQUEST_TIMEOUT_MS = 20_000; // a reply slower than this is treated as lost

/** A request that did not succeed: the server's error frame, or a local reason. */
export class RequestError extends Error {
  /**
   * @param {string} code the server's machine code (§8), or a local one: "offline" (not
   *   connected when asked), "disconnected" (the connection was lost before the reply),
   *   "timeout" (no reply within the request's timeout)
   * @param {string} message for humans
   * @param {object} [frame] the error frame, for fields such as `existing` and `retry`
   */
  constructor(code, message, frame = {}) {
    super(message);
    this.name = 'RequestError';
    this.code = code;
    this.retry = frame.retry === true;
    this.existing = typeof frame.existing === 'number' ? frame.existing : undefined;
  }

  /** True iff the same request may succeed later without any change (retry with backoff). */
  get transient() {
    return TRANSIENT_CODES.has(this.code) || this.retry;
  }
}

const TRANSIENT_CODES = new Set([LocalError.OFFLINE, LocalError.DISCONNECTED, LocalError.TIMEOUT, ErrorCode.UNAVAILABLE, ErrorCode.RATE_LIMITED]);

// Closes that say this client is refused or broken: retrying in a loop would not help (§9).
const REFUSALS = new Set([CloseCode.ORIGIN_REFUSED, CloseCode.PROTOCOL_ERROR, CloseCode.UNSUPPORTED_DATA, CloseCode.TOO_BIG]);

// WebSocket.readyState values (the constants are not on the fake sockets of the tests).
const WS_OPEN = 1;

const defaultTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id),
  now: () => Date.now(),
};

/** True iff every number in the frame is a safe integer or a float (never a BigInt). */
export function isSafeFrame(value, depth = 0) {
  if (typeof value === 'bigint') return false;
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return true;
  if (depth > 16) return false;
  for (const key of Object.keys(value)) {
    if (!isSafeFrame(value[key], depth + 1)) return false;
  }
  return true;
}

export class Connection extends Emitter {
  /**
   * @param {object} opts
   * @param {string} opts.url the wss:// URL of /ws
   * @param {(url: string) => any} opts.createSocket returns a WebSocket-like object
   * @param {() => Array<[number, number]>} [opts.resume] the [ch, last seq held] pairs to
   *   resume, asked at every (re)connection
   * @param {{setTimeout: Function, clearTimeout: Function, now: () => number}} [opts.timers]
   * @param {() => number} [opts.random] uniform in [0, 1), for the backoff jitter
   */
  constructor({ url, createSocket, resume = () => [], timers = defaultTimers, random = Math.random }) {
    super();
    this.url = url;
    this._createSocket = createSocket;
    this._resume = resume;
    this._timers = timers;
    this._random = random;

    this.status = 'stopped';
    this.retryAt = 0; // when status is "offline"/"failed": the time of the next attempt
    this.attempt = 0; // consecutive failed attempts since the last successful hello
    this.lastClose = { code: 0, reason: '' };
    this.heartbeatMs = DEFAULT_HEARTBEAT_MS;
    /** The hello ok of the current connection (user, limits…); null until online. */
    this.session = null;

    this._ws = null;
    this._gen = 0; // bumped whenever a socket is abandoned: its late events are ignored
    this._rid = 0;
    /** @type {Map<number, {resolve: Function, reject: Function, timer: any, op: string}>} */
    this._pending = new Map();
    this._retryTimer = null;
    this._handshakeTimer = null;
    this._liveTimer = null;
    this._lastRx = 0;
    this._pingAt = null; // time a ping was sent and no frame has arrived since
    this._expired = false; // the server said the session ended: do not reconnect on close
    this._holdOffline = false; // test hook: stay offline until goOnline()
    this._cutAfterSend = false; // test hook: drop the socket right after the next send
  }

  // --- public API -----------------------------------------------------------------------------

  /** Start connecting (no-op if already started). */
  start() {
    if (this.status === 'stopped') this._connect();
  }

  /** Close the socket and stop reconnecting. */
  stop() {
    this._clearRetry();
    this._abandon(LocalClose.NORMAL, 'client stopped');
    this._setStatus('stopped');
  }

  /**
   * Connect now, without waiting for the scheduled retry (the browser came back online, the user
   * logged in again, or clicked "retry now"). No-op while connecting or online.
   */
  reconnectNow() {
    if (this.status === 'connecting' || this.status === 'online') return;
    this._expired = false;
    this._clearRetry();
    this._connect();
  }

  /**
   * Send a request and wait for its reply.
   * @param {string} op
   * @param {object} [fields] the request's fields besides op and rid
   * @param {{timeoutMs?: number}} [opts]
   * @returns {Promise<object>} the ok (or ack) frame
   * @throws {RequestError} the server's error, or offline / disconnected / timeout
   */
  request(op, fields = {}, { timeoutMs = REQUEST_TIMEOUT_MS } = {}) {
    if (this.status !== 'online') {
      return Promise.reject(new RequestError(LocalError.OFFLINE, 'not connected to the server'));
    }
    return this._send(op, fields, timeoutMs);
  }

  /** Seconds until the next reconnection attempt (rounded up), or 0. */
  retryInSecs() {
    if (this.status !== 'offline' && this.status !== 'failed') return 0;
    return Math.max(0, Math.ceil((this.retryAt - this._timers.now()) / 1000));
  }

  // --- test hooks (used by the browser tests through window.__chatd) --------------------------

  /** Cut the connection as a network failure would; reconnects with the usual backoff. */
  debugDrop() {
    if (this._ws) this._lost(LocalClose.TEST_HOOK, 'dropped by the test hook', true);
  }

  /** Cut the connection and stay offline until debugGoOnline(). */
  debugGoOffline() {
    this._holdOffline = true;
    if (this._ws) {
      this._lost(LocalClose.TEST_HOOK, 'offline (test hook)', true);
    } else if (this.status === 'offline' || this.status === 'failed') {
      this._clearRetry();
      this._connect(); // fails at once and reschedules
    }
  }

  /** Undo debugGoOffline() and reconnect at once. */
  debugGoOnline() {
    this._holdOffline = false;
    this.reconnectNow();
  }

  /** Cut the connection right after the next frame is sent (a reply that is never read). */
  debugCutAfterNextSend() {
    this._cutAfterSend = true;
  }

  // --- internals ------------------------------------------------------------------------------

  _setStatus(status) {
    this.status = status;
    this.emit('status', {
      status,
      retryAt: this.retryAt,
      attempt: this.attempt,
      code: this.lastClose.code,
      reason: this.lastClose.reason,
    });
  }

  _connect() {
    if (this._holdOffline) {
      // As if the network were down: the attempt fails at once and the backoff grows.
      this.lastClose = { code: LocalClose.ABNORMAL, reason: 'offline (test hook)' };
      this._afterLoss(LocalClose.ABNORMAL);
      return;
    }
    this._abandon(LocalClose.NORMAL, 'reconnecting');
    const gen = ++this._gen;
    this._rid = 0;
    this._expired = false;
    this.session = null;
    this._setStatus('connecting');
    let ws;
    try {
      ws = this._createSocket(this.url);
    } catch (err) {
      // A malformed URL or a refused scheme: nothing to wait for, count it as a lost attempt.
      this.lastClose = { code: LocalClose.ABNORMAL, reason: String(err && err.message ? err.message : err) };
      this._afterLoss(LocalClose.ABNORMAL);
      return;
    }
    this._ws = ws;
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => gen === this._gen && this._onOpen();
    ws.onmessage = (ev) => gen === this._gen && this._onMessage(ev.data);
    ws.onclose = (ev) => gen === this._gen && this._lost(ev.code ?? LocalClose.ABNORMAL, ev.reason ?? '', false);
    // onerror is always followed by onclose; nothing to do in between.
    ws.onerror = () => {};
    this._handshakeTimer = this._timers.setTimeout(() => {
      if (gen === this._gen && this.status === 'connecting') {
        this._lost(LocalClose.NO_HELLO, 'no answer to hello in time', true);
      }
    }, HANDSHAKE_TIMEOUT_MS);
  }

  _onOpen() {
    const resume = (this._resume() || []).filter(
      ([ch, seq]) => Number.isSafeInteger(ch) && Number.isSafeInteger(seq) && ch >= 0 && seq >= 0,
    );
    const fields = { v: PROTOCOL_VERSION };
    if (resume.length) fields.resume = resume.map(([ch, seq]) => [ch, seq]);
    this._lastRx = this._timers.now();
    this._send('hello', fields, HANDSHAKE_TIMEOUT_MS).then(
      (ok) => this._onHello(ok),
      (err) => this._onHelloError(err),
    );
  }

  _onHello(ok) {
    this._timers.clearTimeout(this._handshakeTimer);
    this._handshakeTimer = null;
    this.attempt = 0;
    this.session = ok;
    if (Number.isSafeInteger(ok.heartbeat_ms) && ok.heartbeat_ms >= 1000) {
      this.heartbeatMs = ok.heartbeat_ms;
    }
    this._setStatus('online');
    this._armLiveness();
    this.emit('ready', ok);
  }

  _onHelloError(err) {
    if (!(err instanceof RequestError)) return;
    if (err.code === ErrorCode.NOT_AUTHENTICATED) {
      // The server closes with 4001 next; decide now in case the close never arrives.
      this._expired = true;
      this._lost(CloseCode.UNAUTHENTICATED, err.message, true);
    } else if (err.code === ErrorCode.UNSUPPORTED_VERSION) {
      this._lost(CloseCode.PROTOCOL_ERROR, err.message, true);
    }
    // "disconnected"/"timeout": the loss is already being handled.
  }

  _onMessage(data) {
    this._lastRx = this._timers.now();
    this._pingAt = null;
    if (typeof data === 'string') {
      this.emit('warning', { message: 'text frame from the server ignored' });
      return;
    }
    let frames;
    try {
      // A server message is a CBOR sequence: one or more frames (PROTOCOL.md §1).
      frames = decodeSequence(data instanceof ArrayBuffer ? new Uint8Array(data) : data);
    } catch (err) {
      this.emit('warning', { message: `undecodable frame: ${err.message}` });
      return;
    }
    for (const frame of frames) {
      this._onFrame(frame);
    }
  }

  _onFrame(frame) {
    if (frame === null || typeof frame !== 'object' || Array.isArray(frame) || typeof frame.op !== 'string') {
      this.emit('warning', { message: 'frame without op ignored' });
      return;
    }
    if (!isSafeFrame(frame)) {
      this.emit('warning', { message: `frame ${frame.op} has an integer beyond 2^53; ignored` });
      return;
    }
    const { op } = frame;
    if (op === 'ok' || op === 'ack' || op === 'error') {
      const waiter = typeof frame.rid === 'number' ? this._pending.get(frame.rid) : undefined;
      if (!waiter) {
        this.emit('warning', {
          message: op === 'error' ? `server error: ${frame.code}: ${frame.message}` : `reply to unknown rid ${frame.rid}`,
        });
        return;
      }
      this._pending.delete(frame.rid);
      this._timers.clearTimeout(waiter.timer);
      if (op === 'error') {
        const code = typeof frame.code === 'string' ? frame.code : 'error';
        const message = typeof frame.message === 'string' ? frame.message : code;
        waiter.reject(new RequestError(code, message, frame));
      } else {
        waiter.resolve(frame);
      }
      return;
    }
    if (op === 'session.expired') {
      this._expired = true;
      this.lastClose = { code: CloseCode.UNAUTHENTICATED, reason: typeof frame.reason === 'string' ? frame.reason : '' };
    }
    this.emit('push', frame);
    this.emit(op, frame);
  }

  _send(op, fields, timeoutMs) {
    const ws = this._ws;
    if (!ws || ws.readyState !== WS_OPEN) {
      return Promise.reject(new RequestError(LocalError.OFFLINE, 'not connected to the server'));
    }
    const rid = ++this._rid;
    const frame = { op, rid, ...fields };
    let bytes;
    try {
      bytes = encode(frame);
    } catch (err) {
      return Promise.reject(new RequestError(ErrorCode.BAD_FRAME, `cannot encode ${op}: ${err.message}`));
    }
    return new Promise((resolve, reject) => {
      const timer = this._timers.setTimeout(() => {
        if (this._pending.get(rid)?.timer === timer) {
          this._pending.delete(rid);
          reject(new RequestError(LocalError.TIMEOUT, `no reply to ${op} in time`));
        }
      }, timeoutMs);
      this._pending.set(rid, { resolve, reject, timer, op });
      try {
        ws.send(bytes);
      } catch (err) {
        this._lost(LocalClose.ABNORMAL, `send failed: ${err && err.message}`, true);
        return;
      }
      if (this._cutAfterSend && op !== 'hello') {
        this._cutAfterSend = false;
        this._lost(LocalClose.TEST_HOOK, 'cut after send (test hook)', true);
      }
    });
  }

  /** Liveness (§11): after heartbeatMs of silence send `ping`; a further heartbeatMs → dead. */
  _armLiveness() {
    this._timers.clearTimeout(this._liveTimer);
    if (this.status !== 'online') return;
    const now = this._timers.now();
    const hb = this.heartbeatMs;
    let wait;
    if (this._pingAt !== null) {
      const due = this._pingAt + hb;
      if (now >= due) {
        this._lost(LocalClose.NO_PONG, 'no answer to ping', true);
        return;
      }
      wait = due - now;
    } else {
      const due = this._lastRx + hb;
      if (now >= due) {
        this._pingAt = now;
        this._send('ping', {}, hb * 2).catch(() => {}); // any frame counts as the answer
        wait = hb;
      } else {
        wait = due - now;
      }
    }
    const gen = this._gen;
    this._liveTimer = this._timers.setTimeout(() => gen === this._gen && this._armLiveness(), wait);
  }

  /** Forget the current socket (its events are ignored from now on) and close it. */
  _abandon(code, reason) {
    const ws = this._ws;
    this._gen++;
    this._ws = null;
    this._timers.clearTimeout(this._handshakeTimer);
    this._timers.clearTimeout(this._liveTimer);
    this._handshakeTimer = this._liveTimer = null;
    this._pingAt = null;
    this.session = null;
    const pending = [...this._pending.values()];
    this._pending.clear();
    for (const waiter of pending) {
      this._timers.clearTimeout(waiter.timer);
      waiter.reject(new RequestError(LocalError.DISCONNECTED, `connection lost before the reply to ${waiter.op}`));
    }
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
      try {
        // Only 1000 and 3000–4999 may be passed to close() by a client.
        ws.close(code === LocalClose.NORMAL || (code >= 3000 && code <= 4999) ? code : LocalClose.NORMAL, reason.slice(0, 100));
      } catch {
        // already closed
      }
    }
  }

  /** The socket is gone (closed by the server, the network, or us): decide what comes next. */
  _lost(code, reason, local) {
    if (!this._ws && !local) return;
    // The session.expired push's reason says more than the close frame's.
    if (!(this._expired && this.lastClose.code === CloseCode.UNAUTHENTICATED)) this.lastClose = { code, reason };
    this._abandon(local ? LocalClose.ABANDONED : LocalClose.NORMAL, reason);
    this._afterLoss(code);
  }

  _afterLoss(code) {
    if (this.status === 'stopped') return;
    if (code === CloseCode.UNAUTHENTICATED || this._expired) {
      this._expired = true;
      this._setStatus('expired');
      this.emit('expired', { reason: this.lastClose.reason });
      return;
    }
    if (REFUSALS.has(code)) {
      // Our fault or a refusal: do not retry in a loop (§9), only slowly.
      this.retryAt = this._timers.now() + BACKOFF_MAX_MS;
      this._armRetry(BACKOFF_MAX_MS);
      this._setStatus('failed');
      return;
    }
    // 4008 slow consumer: "reconnect at once and resume", unless that already failed just now.
    const delay = code === CloseCode.SLOW_CONSUMER && this.attempt === 0 ? 0 : backoffDelay(this.attempt, this._random);
    this.attempt++;
    this.retryAt = this._timers.now() + delay;
    this._armRetry(delay);
    this._setStatus('offline');
  }

  _armRetry(delay) {
    this._clearRetry();
    this._retryTimer = this._timers.setTimeout(() => {
      this._retryTimer = null;
      this._connect();
    }, delay);
  }

  _clearRetry() {
    if (this._retryTimer !== null) this._timers.clearTimeout(this._retryTimer);
    this._retryTimer = null;
  }
}
