// The chat page's composition root: it builds the model, the connection, the views and the
// controllers, and connects them; it holds no logic of its own.
//
//   model/        state without DOM: channels and their messages, outbox, drafts, typing,
//                 presence, members, mentions, read markers, notifications, preferences
//                 (unit-tested with node --test)
//   net/          the CBOR codec, the connection, error and close codes
//   views/        the DOM: each view takes (elements, callbacks) and renders what it is given
//   controllers/  what connects them: sync (connection → model), chat (model → views),
//                 composer, history, search, conversation (edits, members, DMs), notifications,
//                 keyboard, dialogs
//
// A new panel: its elements in views/page.js, its view in views/, and its wiring here.

import { Connection } from './net/connection.js';
import * as accountApi from './net/account-api.js';
import { browserStorage } from './model/storage.js';
import { Session } from './model/session.js';
import { Channels } from './model/channels.js';
import { ReadMarkers } from './model/read-markers.js';
import { TypingNotifier, TypingState } from './model/typing.js';
import { IdleTracker, Presence } from './model/presence.js';
import { loadTheme, saveTheme } from './model/prefs.js';
import { SearchModel } from './model/search.js';
import { Members } from './model/members.js';
import { pageElements } from './views/page.js';
import { MessageView } from './views/messages.js';
import { Sidebar } from './views/sidebar.js';
import { ChannelHeader } from './views/header.js';
import { Composer } from './views/composer.js';
import { ConnectionStatus } from './views/connection-status.js';
import { TypingLine } from './views/typing-line.js';
import { Announcer } from './views/announcer.js';
import { Drawer } from './views/drawer.js';
import { Account, applyTheme } from './views/account.js';
import { SearchPanel } from './views/search.js';
import { buildDialogs } from './controllers/dialogs.js';
import { History } from './controllers/history.js';
import { ChatController } from './controllers/chat.js';
import { ComposerController } from './controllers/composer.js';
import { Sync } from './controllers/sync.js';
import { SearchController } from './controllers/search.js';
import { wireKeyboard } from './controllers/keyboard.js';
import { loadMetrics } from './lib/metrics.js';
import { blobStore } from './lib/blob-store.js';
import { tusTransport } from './net/uploads.js';
import { StorageNotice } from './views/storage-notice.js';
import { MembersPanel } from './views/members-panel.js';
import { VersionsDialog } from './views/dialogs/versions.js';
import { ConfirmDialog } from './views/dialogs/confirm.js';
import { PeopleDialog } from './views/dialogs/people.js';
import { NotifySettings } from './views/dialogs/notify-settings.js';
import { AccountDialog } from './views/dialogs/account.js';
import { wireClosing } from './views/dialogs/modal.js';
import { Conversation } from './controllers/conversation.js';
import { Notifier } from './controllers/notifications.js';

const storage = browserStorage();

// Anything the CSP blocks is a bug in this client: keep a record the tests assert is empty.
const cspViolations = [];
document.addEventListener('securitypolicyviolation', (ev) => {
  cspViolations.push(`${ev.violatedDirective} ${ev.blockedURI}`);
});
applyTheme(document.documentElement, loadTheme(storage));

// --- model and connection -------------------------------------------------------------------

// Files: uploaded resumably over HTTPS; their bytes wait in IndexedDB (per user) until done.
const session = new Session(storage, { transport: tusTransport, openBlobs: (userId) => blobStore(`chatd-files-u${userId}`) });
const channels = new Channels();
const typing = new TypingState();
const presence = new Presence();
const members = new Members();
const idle = new IdleTracker();
const conn = new Connection({
  url: `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/ws`,
  createSocket: (url) => new WebSocket(url),
  resume: () => channels.resumeEntries(),
});
const request = (op, fields) => conn.request(op, fields);
const ignore = () => {};
// The reply to a read carries the counts after it (PROTOCOL.md §10.3); a reply to a marker this
// page has moved past since is not the latest word on them.
const reads = new ReadMarkers({
  channels,
  send: (ch, seq) => request('read', { ch, seq }).then((ok) => {
    if (Number.isSafeInteger(ok.last_seq) && ok.seq >= (channels.get(ch)?.readSeq ?? 0)) channels.readElsewhere(ch, ok.seq, ok);
  }).catch(ignore),
});

// --- views (their callbacks reach the controllers built below, once the page runs) ---------

const els = pageElements();
const active = () => session.activeId;
const messages = new MessageView(els.messages, {
  loadOlder: () => history.loadOlder(active()),
  loadNewer: () => history.loadNewer(active()),
  atBottomChanged: (atBottom) => atBottom && chat.scheduleRead(),
  retry: (cid) => session.outbox?.retry(cid),
  discard: (cid) => session.outbox?.discard(cid),
  jumped: () => {
    chat.toLatest();
    composerView.focus();
  },
  viewImage: (fileId) => chat.viewImage(fileId),
  cancelFile: (cid, local) => session.uploader?.cancel(cid, local),
  progress: (cid, local) => session.uploader?.progress(cid, local) ?? 0,
  edit: (seq) => composer.startEdit(seq),
  remove: (seq) => conversation.remove(seq),
  versions: (seq) => conversation.versions(seq),
  userName: (id) => (id === session.myId ? session.me.name : members.names.get(id)),
  me: () => session.myId,
});
const searchModel = new SearchModel();
const searchView = new SearchPanel(els.search, {
  state: () => searchModel,
  search: (q, order, now) => search.search(q, order, now),
  more: () => search.more(),
  openHit: (hit) => search.openHit(hit),
  channel: (ch) => channels.get(ch),
  now: () => session.serverNow(),
});
searchModel.on('change', () => searchView.render());
const sidebar = new Sidebar(els.sidebar, {
  open: (ch) => chat.open(ch, { focus: true }),
  data: () => ({
    channels: channels.list(),
    favourites: session.prefs?.favourites ?? new Set(),
    recent: session.prefs?.recent ?? [],
    activeId: active(),
    drafts: new Set(session.drafts ? session.drafts.channels() : []),
  }),
  browse: () => browser.open(),
  create: () => creator.open(),
  switcher: () => switcher.open(),
  message: () => people.open(),
  presence: (user) => presence.of(user),
});
const header = new ChannelHeader(els.header, {
  toggleFavourite: () => {
    if (active() === null || !session.prefs) return;
    session.prefs.toggleFavourite(active());
    chat.renderHeader();
    chat.renderSidebar();
  },
  members: () => active() !== null && membersDialog.open(active()),
  invite: () => active() !== null && membersDialog.open(active(), { invite: true }),
  notify: () => active() !== null && notifySettings.open(active()),
});
const composerView = new Composer(els.composer, {
  submit: () => composer.send(),
  edited: () => composer.edited(),
  attach: (files) => composer.attach(files),
  unstage: (local) => composer.unstage(local),
  editLast: () => composer.editLast(),
  cancelEdit: () => composer.cancelEdit(),
  members: () => (session.features.has('mentions') ? conversation.membersOf(active()) ?? null : null),
  presence: (id) => presence.of(id),
});
const storageNotice = new StorageNotice(els.storage);
const status = new ConnectionStatus(els.status, {
  state: () => ({ status: conn.status, retryInSecs: conn.retryInSecs(), lastClose: conn.lastClose }),
  retryNow: () => conn.reconnectNow(),
});
const account = new Account(els.account, {
  theme: () => loadTheme(storage),
  chooseTheme: (theme) => saveTheme(storage, theme),
  logout: async () => {
    composer.saveDraft();
    try {
      await accountApi.logOut();
    } finally {
      location.assign('/login');
    }
  },
  open: () => session.me && accountDialog.open(session.me),
});
const drawer = new Drawer(els.drawer);
const versionsDialog = new VersionsDialog(els.versions);
const confirmDialog = new ConfirmDialog(els.confirm);
const people = new PeopleDialog(els.people, {
  find: (q) => conversation.find(q),
  open: (names) => conversation.openDm(names),
  me: () => session.myId,
});
const notifySettings = new NotifySettings(els.notifySettings, {
  channel: (ch) => channels.get(ch),
  save: (ch, fields) => conversation.saveNotify(ch, fields),
});
const accountDialog = new AccountDialog(els.accountDialog, accountApi, {
  renamed: (user) => {
    session.me.display = user.display_name;
    account.render(session.me);
  },
});
const extraDialogs = [versionsDialog, confirmDialog, people, notifySettings, accountDialog].map((d) => d.dialog);
wireClosing(extraDialogs);
const { switcher, browser, creator, members: membersDialog, login, viewer, all: baseDialogs } = buildDialogs(els, {
  request,
  session,
  channels,
  presence,
  open: (ch) => chat.open(ch, { focus: true }),
  loggedIn: () => {
    conn.reconnectNow();
    composerView.focus();
  },
});

// --- controllers ------------------------------------------------------------------------------

const dialogs = [...baseDialogs, ...extraDialogs];
const composer = new ComposerController({
  conn,
  session,
  channels,
  members: (ch) => members.of(ch) ?? null,
  view: composerView,
  notifier: new TypingNotifier({ send: (ch) => request('typing', { ch }).catch(ignore) }),
  callbacks: {
    draftsChanged: () => chat.renderSidebar(),
    sent: () => {
      messages.scrollToBottom();
      chat.renderMessages();
      chat.renderSidebar();
    },
  },
});
const history = new History({
  conn,
  session,
  channels,
  changed: (ch) => chat.logChanged(ch),
  loaded: (ch) => chat.latestLoaded(ch),
});
const chat = new ChatController({
  session,
  channels,
  typing,
  history,
  composer,
  views: {
    messages,
    sidebar,
    header,
    composer: composerView,
    typingLine: new TypingLine(els.typing),
    drawer,
    announcer: new Announcer(els.announcer),
    viewer,
  },
  isLoginOpen: () => login.isOpen,
});
new Sync({
  conn,
  session,
  channels,
  typing,
  presence,
  idle,
  history,
  chat,
  callbacks: {
    firstHello: (me) => {
      account.render(me);
      notifier.renderPrompt();
      accountApi.me().then((r) => {
        session.isAdmin = r.user.is_admin === true;
        chat.renderMessages();
      }).catch(ignore);
    },
    expired: (name, why) => login.open(name, why),
    storage: (push) => storageNotice.render(push),
    counts: (push) => notifier.counts(push),
    userUpdated: (user) => {
      if (user.id === session.myId) {
        session.me.display = user.display;
        account.render(session.me);
      }
      chat.renderMessages();
      panel.render();
    },
  },
});
const conversation = new Conversation({
  conn,
  session,
  channels,
  members,
  presence,
  views: { confirm: confirmDialog, versions: versionsDialog, announcer: chat.views.announcer },
  open: (ch) => chat.open(ch, { focus: true }),
});
const panel = new MembersPanel(els.membersPanel, {
  members: () => conversation.membersOf(active()),
  presence: (id) => presence.of(id),
  me: () => session.myId,
  message: (user) => conversation.message(user),
});
members.on('change', ({ ch }) => {
  if (ch === null || ch === active()) {
    panel.render();
    messages.namesChanged();
    chat.renderMessages();
  }
});
presence.on('change', () => {
  panel.render();
  chat.renderSidebar();
});
const notifier = new Notifier({
  channels,
  session,
  openAt: (ch, seq) => chat.openAt(ch, seq),
  els: els.notifyPrompt,
});
chat.onNews = (ch, message, mention) => notifier.news(ch, message, mention);
chat.onChanged = (message) => notifier.changed(message);
chat.onTotals = (totals) => notifier.totals(totals);
chat.onOpen = () => panel.render();
const search = new SearchController({
  conn,
  model: searchModel,
  view: () => searchView,
  openAt: (ch, seq) => chat.openAt(ch, seq),
  narrow: () => matchMedia('(max-width: 63.99rem)').matches,
});
// Search only when the server has it (PROTOCOL.md §13).
conn.on('ready', () => searchView.setAvailable(session.features.has('search')));
wireKeyboard({ dialogs, switcher, login, drawer, composer: composerView, chat, search: searchView });

// --- the page's life --------------------------------------------------------------------------

conn.on('status', () => status.render());
status.render();
for (const type of ['keydown', 'pointerdown', 'pointermove', 'wheel', 'focus']) {
  addEventListener(type, () => idle.activity(), { passive: true, capture: true });
}
// Back online, or the tab is visible again after a long sleep: do not wait for the backoff.
addEventListener('online', () => {
  conn.reconnectNow();
  session.uploader?.retryNow();
});
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible') {
    if (conn.status === 'offline') conn.reconnectNow();
    chat.scheduleRead();
  } else {
    composer.saveDraft();
  }
});
// The page may go away at any moment: keep the draft, and say how far I have read.
addEventListener('pagehide', () => {
  composer.saveDraft();
  reads.flush();
});

// Hooks for the browser tests (and curious users); they only affect this page's connection.
window.__chatd = {
  app: { conn, session, channels, chat, search: searchModel, members },
  notifications: () => notifier.shown.map((n) => ({ ...n })),
  metrics: loadMetrics,
  cspViolations: () => [...cspViolations],
  status: () => conn.status,
  debugDropConnection: () => conn.debugDrop(),
  debugGoOffline: () => conn.debugGoOffline(),
  debugGoOnline: () => conn.debugGoOnline(),
  debugCutAfterNextSend: () => conn.debugCutAfterNextSend(),
  outbox: () =>
    session.outbox
      ? session.outbox.unsent().map((e) => ({ cid: e.cid, ch: e.ch, body: e.body, status: e.status, files: e.files.map((f) => ({ name: f.name, id: f.id, error: f.error })) }))
      : [],
};

conn.start();
