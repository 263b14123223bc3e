// Unread and mention counts, and the page title. Pure.
//
// The server counts a channel's unread messages and mentions (PROTOCOL.md §10.3) and the
// channel records (channels.js) keep them current between its answers; here they are only read.
// Seqs are stream positions, not message numbers, so counts are never last_seq − read_seq.

/** Unread messages of a channel record. */
export function unreadOf(ch) {
  return Math.max(0, ch.unread | 0);
}

/** Unread messages that mention me (or @channel) in a channel record. */
export function mentionsOf(ch) {
  return Math.max(0, ch.mentions | 0);
}

/**
 * Totals over channels, for the title and the favicon: unread messages of channels that are not
 * muted, mentions (muted channels' too: a mention is for me), and how many channels have any.
 */
export function unreadTotals(channels) {
  let messages = 0;
  let mentions = 0;
  let withUnread = 0;
  for (const ch of channels) {
    const n = unreadOf(ch);
    if (!ch.muted) messages += n;
    mentions += mentionsOf(ch);
    if (n > 0) withUnread++;
  }
  return { messages, mentions, channels: withUnread };
}

/** A badge's text: "1" … "99", then "99+". */
export function badgeText(n) {
  return n > 99 ? '99+' : String(n);
}

/**
 * The document title: "(3) #general · chatd"; the count is every unread message outside what
 * the user is looking at right now (muted channels left out).
 * @param {number} unread
 * @param {string|null} channelName the open channel, if any
 * @param {boolean} [dm] the open channel is a conversation (no "#")
 */
export function pageTitle(unread, channelName, appName = 'chatd', dm = false) {
  const prefix = unread > 0 ? `(${badgeText(unread)}) ` : '';
  const middle = channelName ? `${dm ? '' : '#'}${channelName} · ` : '';
  return `${prefix}${middle}${appName}`;
}
