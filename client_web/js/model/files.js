// Files in messages, as the views need them: sizes for people, the box an image is shown in
// (its space reserved before the thumbnail arrives), and the refusal of a file over the limit
// before any byte is sent. Pure.

import { ErrorCode } from '../net/codes.js';

/** Most files one message carries (PROTOCOL.md §12). */
export const MAX_FILES_PER_MESSAGE = 10;

/** Largest box an inline image takes in the message list, in CSS pixels. */
export const THUMB_BOX = { width: 360, height: 270 };

/** "212 MB", "1.5 GB", "900 bytes" (1 KB = 1024 bytes, as the server writes them). */
export function formatBytes(n) {
  if (!Number.isFinite(n) || n < 1024) return `${Math.max(0, Math.round(n || 0))} bytes`;
  let value = n;
  for (const unit of ['KB', 'MB', 'GB', 'TB']) {
    value /= 1024;
    if (value < 1024 || unit === 'TB') {
      return value < 10 ? `${String(Math.round(value * 10) / 10)} ${unit}` : `${Math.round(value)} ${unit}`;
    }
  }
  return `${n} bytes`;
}

/** An image of w×h shown within `box` (never enlarged): {width, height}, whole pixels ≥ 1. */
export function fitBox(w, h, box = THUMB_BOX) {
  if (!(w > 0 && h > 0)) return { width: box.width, height: box.height };
  const scale = Math.min(1, box.width / w, box.height / h);
  return { width: Math.max(1, Math.round(w * scale)), height: Math.max(1, Math.round(h * scale)) };
}

/** Why `file` ({name, size}) cannot be sent to a server accepting `limit` bytes, or null. */
export function tooLargeText(file, limit) {
  if (!Number.isSafeInteger(limit) || file.size <= limit) return null;
  return `“${file.name}” is ${formatBytes(file.size)}; this server accepts files up to ${formatBytes(limit)}.`;
}

/** True iff `f` has the shape of a File of PROTOCOL.md §7 (anything else is not shown). */
export function isFileInfo(f) {
  return (
    f !== null &&
    typeof f === 'object' &&
    typeof f.id === 'string' &&
    /^[A-Za-z0-9_-]{1,64}$/.test(f.id) &&
    typeof f.name === 'string' &&
    Number.isSafeInteger(f.size) &&
    typeof f.type === 'string' &&
    typeof f.kind === 'string'
  );
}

/** The URL of a file (`download`: always as a download) and of an image's thumbnail. */
export function fileUrl(id, { download = false } = {}) {
  return `/files/${encodeURIComponent(id)}${download ? '?download=1' : ''}`;
}

export function thumbUrl(id) {
  return `/files/${encodeURIComponent(id)}/thumb`;
}

/** What the client shows for an upload the server refused, by error code/status. */
export function uploadErrorText(err) {
  if (err && err.status === 507) return 'The server is out of space for files — text messages still work.';
  if (err && err.code === ErrorCode.FILE_NOT_FOUND) return 'A file of this message is no longer on the server; attach it again.';
  return (err && err.message) || 'The upload failed.';
}
