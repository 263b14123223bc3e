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
