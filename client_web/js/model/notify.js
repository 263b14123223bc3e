// What deserves a desktop notification, and what it says (PROTOCOL.md §6, "What a client
// notifies for"). Pure: the controller (controllers/notifications.js) asks, and shows.

/** A notification's preview is cut at this many characters (what fits on one line or two). */
export const PREVIEW_CHARS = 100;

/**
 * Should this new message notify? Only news (never a replay or my own message), only when I am
 * not looking (the tab is hidden or the window unfocused), never in a muted channel; then by the
 * channel's setting: "all", "mentions" (the message mentions me or @channel), "nothing".
 * @param {{notify: string, muted: boolean}} channel the channel's record
 * @param {{mention: boolean, own: boolean, looking: boolean}} what
 */
export function shouldNotify(channel, { mention, own, looking }) {
  if (own || looking || !channel || channel.muted) return false;
  if (channel.notify === 'all') return true;
  if (channel.notify === 'mentions') return mention;
  return false;
}

/** At most PREVIEW_CHARS of `text`, on one line. */
export function preview(text) {
  const line = String(text ?? '').replace(/\s+/gu, ' ').trim();
  const chars = [...line];
  return chars.length > PREVIEW_CHARS ? `${chars.slice(0, PREVIEW_CHARS - 1).join('')}…` : line;
}

/**
 * The notification of message `m` in `channel`: a conversation's is titled with the sender, a
 * channel's with its name, its body the sender and a preview; `tag` makes a later one of the
 * same message (an edit that mentions me) replace it.
 */
export function notificationOf(channel, m) {
  const files = Array.isArray(m.files) && m.files.length ? `📎 ${m.files.map((f) => f.name).join(', ')}` : '';
  const text = preview(m.body || files);
  if (channel.dm) return { title: m.display, body: text, tag: `chatd-${m.ch}-${m.seq}` };
  return { title: `#${channel.name}`, body: `${m.display}: ${text}`, tag: `chatd-${m.ch}-${m.seq}` };
}
