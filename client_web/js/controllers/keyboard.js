// Keys that work anywhere on the page: Ctrl/Cmd+K (the switcher), Ctrl/Cmd+Shift+F (search),
// Alt+↑/↓ (previous/next channel), Esc (close the drawer, else back to the newest message and
// the message box), and typing outside a field goes to the message box. Dialogs and the search
// panel handle their own keys (Esc in the panel closes it).

/**
 * @param {object} opts
 * @param {HTMLDialogElement[]} opts.dialogs every dialog of the page
 * @param {import('../views/dialogs/switcher.js').Switcher} opts.switcher
 * @param {import('../views/dialogs/login.js').LoginDialog} opts.login
 * @param {import('../views/drawer.js').Drawer} opts.drawer
 * @param {import('../views/composer.js').Composer} opts.composer
 * @param {import('./chat.js').ChatController} opts.chat
 * @param {import('../views/search.js').SearchPanel} opts.search
 */
export function wireKeyboard({ dialogs, switcher, login, drawer, composer, chat, search }) {
  document.addEventListener('keydown', (ev) => {
    const mod = ev.ctrlKey || ev.metaKey;
    if (mod && ev.shiftKey && !ev.altKey && (ev.key === 'f' || ev.key === 'F')) {
      ev.preventDefault();
      if (login.isOpen || dialogs.some((d) => d.open) || !search.available) return;
      search.open();
      return;
    }
    if (mod && !ev.altKey && !ev.shiftKey && (ev.key === 'k' || ev.key === 'K')) {
      ev.preventDefault();
      if (login.isOpen) return;
      for (const d of dialogs) if (d.open && d !== switcher.dialog) d.close();
      if (!switcher.isOpen) switcher.open();
      return;
    }
    if (dialogs.some((d) => d.open)) return; // dialogs handle their own keys
    if (ev.altKey && !mod && (ev.key === 'ArrowUp' || ev.key === 'ArrowDown')) {
      ev.preventDefault();
      chat.openNeighbour(ev.key === 'ArrowUp' ? -1 : 1);
      return;
    }
    if (ev.key === 'Escape') {
      if (drawer.isOpen) {
        drawer.dismiss();
        return;
      }
      // Esc in the conversation: back to the newest message and the message box (as in Slack).
      chat.toLatest();
      composer.focus();
      return;
    }
    // Typing anywhere outside a field goes to the message box. (Space is left alone: on the
    // message list it scrolls.)
    const t = ev.target;
    const inField = t instanceof HTMLElement && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT|BUTTON)$/.test(t.tagName));
    if (!inField && !mod && !ev.altKey && ev.key.length === 1 && ev.key !== ' ' && !composer.disabled) {
      composer.focus();
    }
  });
}
