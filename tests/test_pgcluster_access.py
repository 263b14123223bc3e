"""chatd run as root: the embedded PostgreSQL runs as an unprivileged account, which must be able
to enter every folder above the data directory. A data directory below a 0700 folder fails the
start at once, with a message that names the folder and says how to fix it."""

from __future__ import annotations

import os
import shlex
import tempfile
from pathlib import Path

import pytest

from chatd.pgcluster import ClusterError, EmbeddedCluster, RunAs

# Another account than whoever runs the tests, as the server account is when chatd runs as root.
SERVER_ACCOUNT = RunAs(uid=os.getuid() + 4242, gid=os.getgid() + 4242, name="postgres")


def test_data_dir_below_a_private_folder_is_a_clear_error(tmp_path: Path) -> None:
    private = tmp_path / "private folder"
    private.mkdir(mode=0o700)
    private.chmod(0o700)
    tmp_path.chmod(0o755)
    cluster = EmbeddedCluster(private / "chatd", bindir=tmp_path, run_as=SERVER_ACCOUNT)
    with pytest.raises(ClusterError) as info:
        cluster.prepare()
    message = str(info.value)
    assert message.startswith(f"the PostgreSQL account 'postgres' cannot enter {private} (mode 0700)")
    assert f"chmod o+x {shlex.quote(str(private))}" in message  # the way out, ready to paste
    assert "or run chatd as a normal user" in message
    assert not (private / "chatd" / "pg").exists()  # nothing was initialised


def test_folders_others_may_enter_are_fine() -> None:
    # Not below pytest's tmp_path: its base folder is 0700 (so is the conftest cluster's parent).
    with tempfile.TemporaryDirectory(prefix="chatd-test-access-") as top:
        shared = Path(top) / "shared"
        shared.mkdir()
        Path(top).chmod(0o755)
        shared.chmod(0o711)  # searchable but not listable is enough
        assert SERVER_ACCOUNT.blocked_parent(shared / "chatd") is None
        shared.chmod(0o700)
        assert SERVER_ACCOUNT.blocked_parent(shared / "chatd") == shared
