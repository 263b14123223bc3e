// The elements of index.html, grouped by the view that owns them: the one place that knows the
// page's ids. A new panel adds its group here and its view in views/; other views do not change.

import { byId } from './dom.js';

export function pageElements() {
  return {
    root: document.documentElement,
    app: byId('app'),
    sidebar: {
      nav: byId('channel-nav'),
      filter: byId('channel-filter'),
      browse: byId('browse-button'),
      create: byId('create-button'),
      switcher: byId('switcher-button'),
    },
    account: { display: byId('me-display'), name: byId('me-name'), theme: byId('theme-button'), logout: byId('logout-button'), root: document.documentElement },
    drawer: { app: byId('app'), menu: byId('menu-button'), scrim: byId('scrim'), filter: byId('channel-filter') },
    header: {
      title: byId('channel-name'),
      icon: byId('channel-icon'),
      desc: byId('channel-desc'),
      fav: byId('fav-button'),
      favIcon: byId('fav-icon'),
      members: byId('members-button'),
      invite: byId('invite-button'),
    },
    status: { app: byId('app'), text: byId('conn-text'), retry: byId('conn-retry') },
    messages: { scroller: byId('scroller'), list: byId('message-list'), top: byId('history-top'), bottom: byId('history-bottom'), jump: byId('jump-button') },
    typing: { line: byId('typing') },
    search: {
      app: byId('app'),
      panel: byId('search-panel'),
      open: byId('search-button'),
      form: byId('search-form'),
      input: byId('search-input'),
      close: byId('search-close'),
      count: byId('search-count'),
      order: byId('search-order'),
      results: byId('search-results'),
      list: byId('search-list'),
      empty: byId('search-empty'),
      more: byId('search-more'),
      help: byId('search-help'),
    },
    composer: { form: byId('composer'), input: byId('composer-input'), send: byId('send-button'), error: byId('composer-error'), label: byId('composer-label') },
    announcer: { live: byId('live') },
    switcher: { dialog: byId('switcher'), input: byId('switcher-input'), list: byId('switcher-list') },
    browser: { dialog: byId('browse-dialog'), input: byId('browse-input'), list: byId('browse-list'), more: byId('browse-more'), create: byId('browse-create') },
    creator: {
      dialog: byId('create-dialog'),
      form: byId('create-form'),
      name: byId('create-name'),
      description: byId('create-description'),
      private: byId('create-private'),
      error: byId('create-error'),
      submit: byId('create-submit'),
    },
    members: {
      dialog: byId('members-dialog'),
      title: byId('members-title'),
      list: byId('members-list'),
      inviteForm: byId('invite-form'),
      user: byId('invite-user'),
      submit: byId('invite-submit'),
      result: byId('invite-result'),
      leave: byId('leave-button'),
    },
    login: {
      dialog: byId('login-dialog'),
      form: byId('login-form'),
      username: byId('login-username'),
      password: byId('login-password'),
      error: byId('login-error'),
      submit: byId('login-submit'),
      why: byId('login-why'),
    },
  };
}
