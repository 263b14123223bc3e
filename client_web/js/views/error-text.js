// Human text for a failed request: the server's error code (PROTOCOL.md §8) or the connection's.

import { ErrorCode, LocalError } from '../net/codes.js';

/** A sentence for `err` (a RequestError, or anything with a code and a message). */
export function errorText(err) {
  switch (err && err.code) {
    case LocalError.OFFLINE:
    case LocalError.DISCONNECTED:
      return 'You are offline. Try again when the connection is back.';
    case LocalError.TIMEOUT:
      return 'The server did not answer in time. Try again.';
    case ErrorCode.RATE_LIMITED:
      return 'Too many requests. Wait a few seconds and try again.';
    case ErrorCode.UNAVAILABLE:
      return 'The server is busy or its database is down. Try again shortly.';
    case ErrorCode.NOT_FOUND:
      return 'That channel does not exist (or is private).';
    default:
      return (err && err.message) || 'Something went wrong.';
  }
}
