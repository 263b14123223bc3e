// Native <dialog>s opened modally: Esc closes them (unless the dialog cancels that), focus
// returns to where it was, [data-close] buttons and a click on the backdrop close them.

/** Open `dialog` modally and focus `focus`; when it closes, focus goes back to what had it. */
export function openModal(dialog, focus) {
  if (dialog.open) return;
  const back = document.activeElement;
  dialog.showModal();
  dialog.addEventListener(
    'close',
    () => {
      if (back && back.isConnected && typeof back.focus === 'function') back.focus();
    },
    { once: true },
  );
  if (focus) focus.focus();
}

/** Let each of `dialogs` be closed by its [data-close] buttons and by a click on its backdrop. */
export function wireClosing(dialogs) {
  for (const dialog of dialogs) {
    for (const button of dialog.querySelectorAll('[data-close]')) {
      button.addEventListener('click', () => dialog.close());
    }
    // A click on the backdrop (the dialog element itself, outside its content) closes it.
    dialog.addEventListener('click', (ev) => {
      if (ev.target !== dialog) return;
      const r = dialog.getBoundingClientRect();
      const inside = ev.clientX >= r.left && ev.clientX <= r.right && ev.clientY >= r.top && ev.clientY <= r.bottom;
      if (!inside) dialog.close();
    });
  }
}
