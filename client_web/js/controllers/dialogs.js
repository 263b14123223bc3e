// The dialogs, built with what each may do: requests go through the connection, results into
// the model, and "open a channel" back to the chat controller. No dialog sees the others, or
// anything it was not handed.

import { wireClosing } from '../views/dialogs/modal.js';
import { Switcher } from '../views/dialogs/switcher.js';
import { ChannelBrowser } from '../views/dialogs/channel-browser.js';
import { ChannelCreator } from '../views/dialogs/channel-creator.js';
import { MembersDialog } from '../views/dialogs/members.js';
import { LoginDialog } from '../views/dialogs/login.js';
import { ImageViewer } from '../views/dialogs/viewer.js';
import { logIn } from '../net/account-api.js';

/**
 * @param {object} els pageElements()
 * @param {object} deps
 * @param {(op: string, fields: object) => Promise<object>} deps.request
 * @param {import('../model/session.js').Session} deps.session
 * @param {import('../model/channels.js').Channels} deps.channels
 * @param {import('../model/presence.js').Presence} deps.presence
 * @param {(ch: number) => void} deps.open show a channel (and focus the message box)
 * @param {() => void} deps.loggedIn the log-in dialog set a new session cookie
 */
export function buildDialogs(els, { request, session, channels, presence, open, loggedIn }) {
  const join = async (ch) => {
    const ok = await request('channel.join', { ch });
    channels.upsert(ok.channel);
  };
  const switcher = new Switcher(els.switcher, {
    channels: () => channels.list(),
    recent: () => session.prefs?.recent ?? [],
    choose: open,
  });
  const creator = new ChannelCreator(els.creator, {
    create: async (fields) => {
      const ok = await request('channel.create', fields);
      channels.upsert(ok.channel);
      return ok.channel;
    },
    join,
    open,
  });
  const browser = new ChannelBrowser(els.browser, {
    browse: (fields) => request('browse', fields),
    isMember: (ch) => channels.has(ch),
    join,
    open,
    create: (name) => creator.open(name),
  });
  const members = new MembersDialog(els.members, {
    channel: (ch) => channels.get(ch),
    members: async (ch) => {
      const ok = await request('members', { ch });
      presence.setMany(ok.members.map((m) => [m.id, m.presence]));
      return ok.members;
    },
    presence: (user) => presence.of(user),
    invite: (ch, user) => request('channel.invite', { ch, user }),
    leave: (ch) => request('channel.leave', { ch }),
    left: (ch) => channels.remove(ch),
  });
  presence.on('change', () => members.renderList());
  const login = new LoginDialog(els.login, { logIn, loggedIn });
  const viewer = new ImageViewer(els.viewer);
  const all = [switcher, browser, creator, members, login, viewer].map((d) => d.dialog);
  wireClosing(all.filter((d) => d !== login.dialog)); // the log-in dialog cannot be dismissed
  return { switcher, browser, creator, members, login, viewer, all };
}
