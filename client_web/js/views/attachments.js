// The files of a message in the message list: images inline (their box reserved from the
// size the server sent, so nothing jumps when the thumbnail arrives; a click opens the viewer),
// video and audio with the browser's own player, everything else a card that downloads. Files
// of my messages still uploading show a progress bar and a cancel button.
//
// Names are text (the browser shows any UTF-8 name as is, and downloads under it through the
// server's Content-Disposition); nothing from a file ever becomes markup.

import { h } from './dom.js';
import { fileUrl, fitBox, formatBytes, thumbUrl } from '../model/files.js';

const KIND_ICON = { video: 'icon-film', audio: 'icon-note', file: 'icon-file', image: 'icon-file' };

function card(f, { href, download }) {
  const a = h(
    'a',
    { class: 'file-card', href, dataset: { file: f.id ?? '' } },
    h('span', { class: `icon ${KIND_ICON[f.kind] ?? 'icon-file'}`, 'aria-hidden': 'true' }),
    h('bdi', { class: 'file-name', dir: 'auto' }, f.name),
    h('span', { class: 'file-size' }, formatBytes(f.size)),
  );
  if (download) a.setAttribute('download', f.name);
  return a;
}

/** One File (PROTOCOL.md §7) of a committed message. */
export function serverFile(f) {
  if (f.kind === 'image' && f.w > 0 && f.h > 0) {
    const box = fitBox(f.w, f.h);
    const img = h('img', { src: thumbUrl(f.id), alt: f.name, width: String(box.width), height: String(box.height), loading: 'lazy', decoding: 'async' });
    return h(
      'button',
      { type: 'button', class: 'file-thumb', dataset: { action: 'view', file: f.id }, 'aria-label': `Open ${f.name} (${f.w}×${f.h}, ${formatBytes(f.size)})` },
      img,
    );
  }
  if (f.kind === 'video' || f.kind === 'audio') {
    const player = h(f.kind, { controls: true, preload: 'metadata', src: fileUrl(f.id), 'aria-label': f.name });
    return h('div', { class: `file-media file-${f.kind}` }, player, card(f, { href: fileUrl(f.id, { download: true }), download: true }));
  }
  return card(f, { href: fileUrl(f.id, { download: true }), download: true });
}

/** One file of my message not sent yet: name, size, progress and cancel (or why it failed). */
export function localFile(f, sent) {
  const done = Boolean(f.id);
  const bar = h('progress', { class: 'file-progress', max: String(Math.max(f.size, 1)), value: String(done ? f.size : sent), 'aria-label': `Uploading ${f.name}` });
  const row = h(
    'div',
    { class: 'file-card file-local', dataset: { local: f.local } },
    h('span', { class: 'icon icon-file', 'aria-hidden': 'true' }),
    h('bdi', { class: 'file-name', dir: 'auto' }, f.name),
    h('span', { class: 'file-size' }, formatBytes(f.size)),
    // Why the message failed is said once, on its status line; the file just says it did not go.
    f.error ? h('span', { class: 'file-error', title: f.error.message }, 'not uploaded') : bar,
  );
  if (!done) {
    row.append(h('button', { type: 'button', class: 'icon-button file-cancel', dataset: { action: 'cancel-file', local: f.local }, 'aria-label': `Cancel the upload of ${f.name}`, title: 'Cancel' }, h('span', { 'aria-hidden': 'true' }, '✕')));
  }
  return row;
}

/**
 * The files block of a message, or null when it has none.
 * @param {Array<object>} files a message's Files, or an outbox entry's local files
 * @param {{local: boolean, sent?: (local: string) => number}} opts
 */
export function renderFiles(files, { local, sent = () => 0 }) {
  if (!files || !files.length) return null;
  const block = h('div', { class: 'msg-files' });
  for (const f of files) block.append(local ? localFile(f, sent(f.local)) : serverFile(f));
  return block;
}

/** What a message's files look like, for the view to rebuild its element only when it changes. */
export function filesSignature(files) {
  return (files ?? []).map((f) => `${f.id ?? ''}:${f.local ?? ''}:${f.error ? f.error.code : ''}`).join(',');
}
