"""Files: uploads streamed to a content-addressed store under ``DATA_DIR/files``, sniffed,
thumbnailed, served only to those who may read them, and swept when no longer needed.

``service.Files`` is the daemon's file service (``state.files``): admission, one-request
uploads, storing; ``resumable`` its tus uploads; ``blobstore`` the disk layout; ``sniff``,
``names`` and ``thumbnails`` what a file is, is called and looks like; ``housekeeping`` the
sweep and the space watch; ``space`` the low-space state; ``refusals`` how uploads are refused.
"""
