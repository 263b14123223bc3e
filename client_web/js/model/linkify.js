// Find links in message text. Pure: returns segments; the view turns them into text nodes and
// <a> elements (never HTML). Only http(s) links become clickable: no javascript:, data:, file:.

// A candidate starts at http://, https:// or www. and runs to white space or a character that
// cannot be part of a bare URL in prose.
const CANDIDATE = /\b(?:https?:\/\/|www\.)[^\s<>"'`\u00a0\u2028\u2029]+/giu;
const TRAILING_PUNCTUATION = /[.,;:!?'"»”’}>*_~]/u;

function count(s, ch) {
  let n = 0;
  for (const c of s) if (c === ch) n++;
  return n;
}

/** Strip punctuation a sentence puts after a link, keeping balanced brackets ("…/Foo_(bar)"). */
function trimTrailing(url) {
  let end = url.length;
  while (end > 0) {
    const c = url[end - 1];
    if (c === ')' || c === ']') {
      const head = url.slice(0, end);
      if (count(head, c === ')' ? '(' : '[') >= count(head, c)) break; // it closes one of ours
      end--;
    } else if (TRAILING_PUNCTUATION.test(c)) {
      end--;
    } else {
      break;
    }
  }
  return url.slice(0, end);
}

/**
 * A safe href for `text` found in a message, or null.
 * @param {string} text "https://…", "http://…" or "www.…"
 */
export function safeHref(text) {
  const candidate = /^www\./i.test(text) ? `https://${text}` : text;
  let url;
  try {
    url = new URL(candidate);
  } catch {
    return null;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
  // A host is needed, and a lone "www." is a word, not a link.
  if (!url.hostname || url.hostname.endsWith('.')) return null;
  return url.href;
}

/**
 * Split `text` into text and link segments, in order; concatenating the `text` of every segment
 * gives back the input exactly.
 * @returns {Array<{type: "text", text: string} | {type: "link", text: string, href: string}>}
 */
export function linkify(text) {
  const out = [];
  let last = 0;
  CANDIDATE.lastIndex = 0;
  for (let m = CANDIDATE.exec(text); m !== null; m = CANDIDATE.exec(text)) {
    const raw = trimTrailing(m[0]);
    const href = raw.length > 'https://'.length - 1 ? safeHref(raw) : null;
    if (!href) continue;
    if (m.index > last) out.push({ type: 'text', text: text.slice(last, m.index) });
    out.push({ type: 'link', text: raw, href });
    last = m.index + raw.length;
    CANDIDATE.lastIndex = last;
  }
  if (last < text.length) out.push({ type: 'text', text: text.slice(last) });
  return out;
}
