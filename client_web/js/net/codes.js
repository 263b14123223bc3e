// The protocol's error codes (PROTOCOL.md §8) and WebSocket close codes (§9), in one place: the
// client branches on these, never on string or number literals.
//
// tests/test_client_codes.py keeps this file in step with chatd/wire/errors.py: ErrorCode's keys
// are the Python constant names (BAD_FRAME = "bad_frame"), CloseCode's the CLOSE_* names without
// "CLOSE_". The test reads each `export const X = Object.freeze({ … });` block with a regex, so
// keep one `NAME: value,` entry per line, values as '…' strings or plain integers.

/** The `code` of an error frame. The server may add codes (§3.3): unknown ones read as errors. */
export const ErrorCode = Object.freeze({
  BAD_FRAME: 'bad_frame',
  UNKNOWN_OP: 'unknown_op',
  UNSUPPORTED_VERSION: 'unsupported_version',
  NOT_AUTHENTICATED: 'not_authenticated',
  HELLO_REQUIRED: 'hello_required',
  NOT_FOUND: 'not_found',
  NOT_MEMBER: 'not_member',
  NAME_TAKEN: 'name_taken',
  INVALID_NAME: 'invalid_name',
  TOO_LARGE: 'too_large',
  EMPTY_BODY: 'empty_body',
  BAD_LIMIT: 'bad_limit',
  USER_NOT_FOUND: 'user_not_found',
  FORBIDDEN: 'forbidden',
  ALREADY_MEMBER: 'already_member',
  UNAVAILABLE: 'unavailable',
  RATE_LIMITED: 'rate_limited',
  FILE_NOT_FOUND: 'file_not_found',
  TOO_MANY_CONNECTIONS: 'too_many_connections',
});

/** Close codes the server uses (§9). */
export const CloseCode = Object.freeze({
  GOING_AWAY: 1001,
  UNSUPPORTED_DATA: 1003,
  TOO_BIG: 1009,
  INTERNAL_ERROR: 1011,
  TRY_AGAIN_LATER: 1013,
  UNAUTHENTICATED: 4001,
  ORIGIN_REFUSED: 4003,
  SLOW_CONSUMER: 4008,
  PROTOCOL_ERROR: 4400,
});

/** Not on the wire: RequestError codes of requests that got no answer from the server. */
export const LocalError = Object.freeze({
  OFFLINE: 'offline', // not connected when asked
  DISCONNECTED: 'disconnected', // the connection was lost before the reply
  TIMEOUT: 'timeout', // no reply within the request's timeout
});

/** Not from the server: codes this client closes a socket with, or records for one it lost. */
export const LocalClose = Object.freeze({
  NORMAL: 1000, // RFC 6455: closed on purpose (reconnecting, stopped)
  ABNORMAL: 1006, // RFC 6455: gone without a close frame (network loss, refused socket)
  ABANDONED: 4000, // sent when this client drops a socket it gave up on
  NO_PONG: 4997, // no frame at all after a ping (§11)
  NO_HELLO: 4998, // hello not answered in time
  TEST_HOOK: 4999, // cut by a window.__chatd test hook
});
