// Client-side identifiers for the chatd protocol. Pure apart from the browser's CSPRNG.
//
// A cid (client message id) is 16 random bytes chosen by the sender; a retried send carries the
// same cid so the server stores the message once. Uint8Arrays compare by identity, so use
// cidKey() wherever a cid must be a Map key or be compared (e.g. matching the "msg" push of
// one's own message to the optimistic copy on screen).

/** Length of a cid in bytes (the protocol's `bstr .size 16`). */
export const CID_BYTES = 16;

/**
 * A fresh random cid from the platform CSPRNG (crypto.getRandomValues).
 * @returns {Uint8Array} 16 bytes the caller owns.
 */
export function newCid() {
  return crypto.getRandomValues(new Uint8Array(CID_BYTES));
}

/**
 * The cid as 32 lower-case hex digits: equal cids give equal keys.
 * @param {Uint8Array} cid
 * @returns {string}
 * @throws {TypeError} if cid is not a 16-byte Uint8Array (a malformed frame must not alias).
 */
export function cidKey(cid) {
  if (!(cid instanceof Uint8Array) || cid.length !== CID_BYTES) {
    throw new TypeError(`a cid is a Uint8Array of ${CID_BYTES} bytes`);
  }
  let hex = '';
  for (let i = 0; i < cid.length; i++) hex += HEX[cid[i]];
  return hex;
}

const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

/**
 * The cid whose cidKey() is `key` (the inverse of cidKey, for cids kept in storage as text).
 * @param {string} key 32 hex digits
 * @returns {Uint8Array}
 * @throws {TypeError} if key is not 32 hex digits
 */
export function cidFromKey(key) {
  if (typeof key !== 'string' || !/^[0-9a-f]{32}$/.test(key)) {
    throw new TypeError('a cid key is 32 lower-case hex digits');
  }
  const out = new Uint8Array(CID_BYTES);
  for (let i = 0; i < CID_BYTES; i++) out[i] = parseInt(key.slice(2 * i, 2 * i + 2), 16);
  return out;
}
