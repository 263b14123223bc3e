// Unread counts and the page title. Pure.
//
// Seqs are dense per channel (PROTOCOL.md §7), so the number of messages after my read marker
// is last_seq − read_seq: the client keeps both per channel and never counts messages itself,
// which makes replays after a reconnect impossible to double-count.

/** Unread messages of a channel record {lastSeq, readSeq}. */
export function unreadOf(ch) {
  return Math.max(0, (ch.lastSeq | 0) - (ch.readSeq | 0));
}

/** Total unread over channels, and how many channels have any. */
export function unreadTotals(channels) {
  let messages = 0;
  let withUnread = 0;
  for (const ch of channels) {
    const n = unreadOf(ch);
    messages += n;
    if (n > 0) withUnread++;
  }
  return { messages, channels: withUnread };
}

/** A badge's text: "1" … "99", then "99+". */
export function badgeText(n) {
  return n > 99 ? '99+' : String(n);
}

/**
 * The document title: "(3) #general · chatd"; the count is every unread message outside what
 * the user is looking at right now.
 * @param {number} unread
 * @param {string|null} channelName the open channel, if any
 */
export function pageTitle(unread, channelName, appName = 'chatd') {
  const prefix = unread > 0 ? `(${badgeText(unread)}) ` : '';
  const middle = channelName ? `#${channelName} · ` : '';
  return `${prefix}${middle}${appName}`;
}
