// What the message view shows, computed from the held messages and the outbox: date
// separators, grouping of consecutive messages, delivery status. Pure (time zone and locale are
// parameters), so the rules are unit-tested.

import { messageKey } from './channel-log.js';
import { mentionsUser } from './channels.js';

/** Consecutive messages of one author closer than this share one header (as Slack does). */
export const GROUP_WINDOW_MS = 5 * 60 * 1000;

const dayFormatters = new Map();
function formatter(locale, timeZone, options) {
  const key = JSON.stringify([locale, timeZone, options]);
  let f = dayFormatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(locale, { ...options, timeZone });
    dayFormatters.set(key, f);
  }
  return f;
}

/**
 * The calendar day of `ts` in `timeZone` as "YYYY-MM-DD".
 * @param {number} ts ms since the epoch
 * @param {string} [timeZone] IANA name; undefined = the browser's
 */
export function dayKey(ts, timeZone) {
  const parts = formatter('en-CA', timeZone, { year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(ts);
  const get = (t) => parts.find((p) => p.type === t).value;
  return `${get('year')}-${get('month')}-${get('day')}`;
}

function previousDay(key) {
  const [y, m, d] = key.split('-').map(Number);
  const t = Date.UTC(y, m - 1, d) - 86_400_000;
  return new Date(t).toISOString().slice(0, 10);
}

/**
 * A date separator's label: "Today", "Yesterday", a weekday and date this year, else with year.
 * @param {number} ts
 * @param {number} now
 */
export function dayLabel(ts, now, { locale, timeZone } = {}) {
  const key = dayKey(ts, timeZone);
  const today = dayKey(now, timeZone);
  if (key === today) return 'Today';
  if (key === previousDay(today)) return 'Yesterday';
  const sameYear = key.slice(0, 4) === today.slice(0, 4);
  const options = sameYear
    ? { weekday: 'long', day: 'numeric', month: 'long' }
    : { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' };
  return formatter(locale, timeZone, options).format(ts);
}

/** "14:05" (or "2:05 PM", per locale). */
export function timeLabel(ts, { locale, timeZone } = {}) {
  return formatter(locale, timeZone, { hour: 'numeric', minute: '2-digit' }).format(ts);
}

/** Full date and time, for the title attribute of a time. */
export function fullTimeLabel(ts, { locale, timeZone } = {}) {
  return formatter(locale, timeZone, { dateStyle: 'full', timeStyle: 'short' }).format(ts);
}

/**
 * The items of the message view, in display order.
 *
 * @param {Array<object>} messages held messages of the channel, ascending seq (cid as hex)
 * @param {Array<object>} entries the channel's outbox entries (pending, sending, acked, failed)
 * @param {object} ctx
 * @param {{id: number, name: string, display: string}} ctx.me
 * @param {number} ctx.now
 * @param {number} [ctx.clockOffsetMs] server time − local time, to place local entries
 * @param {string} [ctx.locale]
 * @param {string} [ctx.timeZone]
 * @param {number} [ctx.editWindowMs] how long after posting its author may change a message
 *   (0: always; feature "edits"); undefined: the server has no edits
 * @param {boolean} [ctx.moderator] I may delete anyone's message (the channel's owner, an admin)
 * @returns {Array<object>} {kind: "day", key, label} | {kind: "msg", key, msg, own, grouped,
 *   status: "sent"|"pending"|"sending"|"acked"|"failed"|"", error, local, mentionsMe, canEdit,
 *   canDelete}
 */
export function buildTimeline(messages, entries, ctx) {
  const { me, now, clockOffsetMs = 0, locale, timeZone, editWindowMs, moderator = false } = ctx;
  const rows = [];
  for (const m of messages) {
    const own = m.user === me.id;
    const live = !m.deleted && editWindowMs !== undefined;
    const inWindow = own && live && (editWindowMs === 0 || now - m.ts <= editWindowMs);
    rows.push({
      msg: m, own, status: own ? 'sent' : '', error: null, local: false,
      mentionsMe: !own && !m.deleted && mentionsUser(m, me.id),
      canEdit: inWindow, canDelete: inWindow || (live && moderator),
    });
  }
  const held = new Set(messages.map((m) => messageKey(m.user, m.cid)));
  for (const e of entries) {
    if (e.status === 'discarded') continue;
    if (held.has(messageKey(me.id, e.cid))) continue; // the real message is shown instead
    const ts = e.ack ? e.ack.ts : e.createdAt + clockOffsetMs;
    rows.push({
      msg: { ch: e.ch, seq: e.ack ? e.ack.seq : 0, id: 0, ts, user: me.id, name: me.name, display: me.display, body: e.body, cid: e.cid, files: e.files ?? [], v: 1, edited: 0, deleted: false, mentions: e.mentions ?? [], all: !!e.all },
      own: true,
      status: e.status,
      error: e.error,
      local: true,
      mentionsMe: false,
      canEdit: false,
      canDelete: false,
    });
  }
  const items = [];
  let prev = null;
  let prevDay = null;
  for (const row of rows) {
    const day = dayKey(row.msg.ts, timeZone);
    if (day !== prevDay) {
      items.push({ kind: 'day', key: `day:${day}`, label: dayLabel(row.msg.ts, now, { locale, timeZone }) });
      prevDay = day;
      prev = null;
    }
    const grouped =
      prev !== null &&
      prev.msg.user === row.msg.user &&
      prev.msg.display === row.msg.display &&
      !prev.msg.deleted &&
      !row.msg.deleted &&
      row.msg.ts - prev.msg.ts < GROUP_WINDOW_MS &&
      row.msg.ts >= prev.msg.ts;
    items.push({ kind: 'msg', key: `m:${messageKey(row.msg.user, row.msg.cid)}`, grouped, ...row });
    prev = row;
  }
  return items;
}
