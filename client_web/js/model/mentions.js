// Mentions (feature "mentions", PROTOCOL.md §5.9): the `@` word being typed, the channel's
// members that match it (any script, usernames and display names), and, at send time, whom the
// text mentions — as user ids, which is what the server stores; it never reads names in the
// text. And the other way round: the parts of a shown message that name a mentioned member.
// Pure.

import { fold } from './channel-list.js';

/** Words that mention everyone in the channel (sent as `all`). */
export const EVERYONE = new Set(['channel', 'here', 'all', 'everyone']);

// A username: letters and marks of any script, decimal digits, and . _ - (chatd/auth/names.py).
const NAME = '[\\p{L}\\p{M}\\p{Nd}._-]+';
const TOKEN = new RegExp(`(^|[^\\p{L}\\p{M}\\p{Nd}._@-])@(${NAME})`, 'gu');
const TYPING = new RegExp(`(?:^|[^\\p{L}\\p{M}\\p{Nd}._@-])@(${NAME})?$`, 'u');

/**
 * The mention being typed just before the caret: `{start, query}` (start: the index of its `@`),
 * or null when the caret is not right after `@` or `@word`.
 */
export function mentionQuery(text, caret) {
  const before = text.slice(0, caret);
  const m = TYPING.exec(before);
  if (!m) return null;
  const query = m[1] ?? '';
  return { start: caret - query.length - 1, query };
}

/**
 * The members matching `query`, best first: a username or display name that starts with it, then
 * one with a word that does, then any that contains it (all compared folded: case and accents
 * ignored, any script). Ties: online first, then by name. At most `limit`.
 * @param {Array<{id: number, name: string, display: string}>} members
 * @param {(id: number) => string} [presence]
 */
export function matchMembers(members, query, limit = 8, presence = () => 'offline') {
  const q = fold(query);
  const rank = { online: 0, away: 1, offline: 2 };
  const scored = [];
  for (const m of members) {
    const name = fold(m.name);
    const display = fold(m.display);
    let score;
    if (!q || name.startsWith(q) || display.startsWith(q)) score = 0;
    else if (display.split(/[\s\-_.]+/u).some((w) => w.startsWith(q))) score = 1;
    else if (name.includes(q) || display.includes(q)) score = 2;
    else continue;
    scored.push([score, rank[presence(m.id)] ?? 2, m]);
  }
  scored.sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2].name.localeCompare(b[2].name));
  return scored.slice(0, limit).map((s) => s[2]);
}

/** `text` with the typed mention at [start, caret) replaced by `@username ` and the new caret. */
export function insertMention(text, start, caret, username) {
  const inserted = `@${username} `;
  const rest = text.slice(caret).replace(/^ /, '');
  return { text: text.slice(0, start) + inserted + rest, caret: start + inserted.length };
}

/** The username a token names: the token itself, or without the punctuation it ends with. */
function lookup(byName, token) {
  const key = fold(token);
  return byName.get(key) ?? byName.get(key.replace(/[._-]+$/u, ''));
}

/**
 * Whom `text` mentions among `members`: the ids of the members whose username follows an `@`
 * (any case), and `all` for @channel, @here, @all or @everyone.
 * @returns {{mentions: number[], all: boolean}}
 */
export function resolveMentions(text, members) {
  const byName = new Map(members.map((m) => [fold(m.name), m]));
  const ids = new Set();
  let all = false;
  for (const match of text.matchAll(TOKEN)) {
    const token = match[2];
    if (EVERYONE.has(token.toLowerCase().replace(/[._-]+$/u, ''))) {
      all = true;
      continue;
    }
    const m = lookup(byName, token);
    if (m) ids.add(m.id);
  }
  return { mentions: [...ids], all };
}

/**
 * `body` in segments for display: `{text}` and `{text, mention: true, me}` for each `@name` of
 * a member the message mentions (`mentions`: their users, {id, name}) — and `@channel` & co
 * when it mentions everyone. A name the message does not mention stays plain text.
 */
export function mentionSegments(body, mentions, all, me) {
  const byName = new Map(mentions.map((u) => [fold(u.name), u]));
  const out = [];
  let at = 0;
  for (const match of body.matchAll(TOKEN)) {
    const token = match[2];
    const start = match.index + match[1].length;
    const bare = token.replace(/[._-]+$/u, '');
    const everyone = all && EVERYONE.has(bare.toLowerCase());
    const user = everyone ? null : lookup(byName, token);
    if (!everyone && !user) continue;
    const length = 1 + (user && fold(token) !== fold(user.name) ? bare.length : token.length);
    if (start > at) out.push({ text: body.slice(at, start) });
    out.push({ text: body.slice(start, start + length), mention: true, me: everyone || user.id === me });
    at = start + length;
  }
  if (at < body.length) out.push({ text: body.slice(at) });
  return out;
}
