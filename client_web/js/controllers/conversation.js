// What happens to messages after they are sent, and who is around: edit, delete and earlier
// versions (feature "edits"), the open channel's members for the panel and the mention picker
// (kept current by member and presence pushes), direct message conversations (feature "dms"),
// and a channel's notification settings (feature "notify"). The views call in here; requests
// go out over the connection, results into the model.

import { errorText } from '../views/error-text.js';

export class Conversation {
  /**
   * @param {object} opts
   * @param {import('../net/connection.js').Connection} opts.conn
   * @param {import('../model/session.js').Session} opts.session
   * @param {import('../model/channels.js').Channels} opts.channels
   * @param {import('../model/members.js').Members} opts.members
   * @param {import('../model/presence.js').Presence} opts.presence
   * @param {object} opts.views {confirm, versions, people, notifySettings, panel, announcer}
   * @param {(ch: number) => void} opts.open show a channel and focus the message box
   */
  constructor({ conn, session, channels, members, presence, views, open }) {
    Object.assign(this, { conn, session, channels, members, presence, views, open });
    this._loading = new Set();
    conn.on('member.joined', (f) => members.joined(f.ch, f.member));
    conn.on('member.left', (f) => members.left(f.ch, f.user));
    conn.on('user.updated', (f) => members.renamed(f.user));
    conn.on('ready', () => {
      this.members.byChannel.clear(); // who is in which channel may have changed while away
      this.loadMembers(session.activeId);
    });
    channels.on('removed', ({ ch }) => members.forget(ch));
  }

  /** The members of ch, loaded once (then kept current by pushes); undefined while unknown. */
  membersOf(ch) {
    if (ch === null) return undefined;
    const list = this.members.of(ch);
    if (!list) this.loadMembers(ch);
    return list;
  }

  async loadMembers(ch) {
    if (ch === null || this._loading.has(ch) || this.conn.status !== 'online') return;
    this._loading.add(ch);
    try {
      const ok = await this.conn.request('members', { ch });
      this.presence.setMany(ok.members.map((m) => [m.id, m.presence]));
      this.members.set(ch, ok.members);
    } catch {
      // shown as "loading" until the next try (the next channel switch or reconnect)
    } finally {
      this._loading.delete(ch);
    }
  }

  /** Delete message `seq` of the open channel, after asking. */
  async remove(seq) {
    const ch = this.session.activeId;
    const m = this.channels.log(ch)?.find(seq);
    if (!m || m.deleted) return;
    const own = m.user === this.session.myId;
    const ok = await this.views.confirm.ask(
      own ? 'Delete your message? Its text and files are removed for everyone; a note keeps its place.'
        : `Delete the message of ${m.display}? Its text and files are removed for everyone.`,
      'Delete message',
    );
    if (!ok) return;
    try {
      await this.conn.request('delete', { ch, seq });
    } catch (err) {
      this.views.announcer.say(`The message was not deleted: ${errorText(err)}`);
    }
  }

  /** Show the earlier versions of message `seq` of the open channel. */
  versions(seq) {
    const ch = this.session.activeId;
    const m = this.channels.log(ch)?.find(seq);
    if (!m) return;
    this.views.versions.open(m, async () => (await this.conn.request('versions', { ch, seq })).versions);
  }

  /** Open (or start) my conversation with these usernames, and show it. */
  async openDm(usernames) {
    const ok = await this.conn.request('dm.open', { users: usernames });
    this.channels.upsert(ok.channel);
    this.open(ok.channel.id);
  }

  /** Write to a member: straight to our conversation. */
  async message(user) {
    try {
      await this.openDm([user.name]);
    } catch (err) {
      this.views.announcer.say(`Could not open the conversation: ${errorText(err)}`);
    }
  }

  /** People to write to, by name (the `users` directory). */
  async find(q) {
    const ok = await this.conn.request('users', q ? { q, limit: 20 } : { limit: 20 });
    return ok.users;
  }

  /** Save a channel's notification settings (every device gets `channel.updated`). */
  async saveNotify(ch, fields) {
    await this.conn.request('channel.notify', { ch, ...fields });
  }
}
