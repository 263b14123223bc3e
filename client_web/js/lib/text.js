// Text rules shared with the server (PROTOCOL.md §5.9).

// The characters of the Unicode White_Space property, as the server's codec lists them
// (chatd/wire/codec.py WHITE_SPACE). JavaScript's trim() differs: it also strips U+FEFF and
// does not strip U+0085, so a body of U+FEFF would never be sent and one of U+0085 refused.
export const WHITE_SPACE = '\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007'
  + '\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000';

/** True iff `text` is empty or only White_Space: what the server refuses as `empty_body`. */
export function isBlank(text) {
  for (const ch of text) if (!WHITE_SPACE.includes(ch)) return false;
  return true;
}
