"""A real IMAP server for the tests: Debian's Dovecot (`dovecot-imapd`), on loopback, in a temporary folder.

The server gets its own configuration, a free port (a system Dovecot on 143 is left alone), one mailbox user
with a plain password and Maildir storage under the folder. Tests deliver messages with IMAP APPEND, as the
office's mail server would, and the application reads them as it reads the real mailbox. Without Dovecot the
tests that need it are skipped, except on CI (CI=true), where they fail: `.ci/run` installs it.
"""

from __future__ import annotations

import grp
import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

DOVECOT = "/usr/sbin/dovecot"
ON_CI = os.environ.get("CI", "").lower() == "true"
USER = "ufficio"
PASSWORD = "password-della-casella"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _existing_user(name: str) -> str:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return "root"
    return name


def _accounts() -> dict[str, object]:
    """Who Dovecot's processes run as, and the owner of the mail files.

    As root (CI): the Debian package's `dovecot` and `dovenull` users (root when they are missing), and mail
    stored as `nobody`, since Dovecot refuses mail access as UID 0. Otherwise everything runs as the current user.
    """
    if os.getuid() != 0:
        me = pwd.getpwuid(os.getuid()).pw_name
        return {"internal": me, "login": me, "group": grp.getgrgid(os.getgid()).gr_name,
                "uid": os.getuid(), "gid": os.getgid()}
    internal = _existing_user("dovecot")
    try:
        nobody = pwd.getpwnam("nobody")
        uid, gid = nobody.pw_uid, nobody.pw_gid
    except KeyError:
        uid = gid = 65534
    return {"internal": internal, "login": _existing_user("dovenull"),
            "group": grp.getgrgid(pwd.getpwnam(internal).pw_gid).gr_name, "uid": uid, "gid": gid}


def _config(folder: Path, port: int, accounts: dict[str, object]) -> str:
    return f"""\
protocols = imap
listen = 127.0.0.1
base_dir = {folder}/run
state_dir = {folder}/state
log_path = {folder}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
default_internal_user = {accounts["internal"]}
default_internal_group = {accounts["group"]}
default_login_user = {accounts["login"]}
first_valid_uid = 1
first_valid_gid = 0
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {folder}/passwd
}}
userdb {{
  driver = static
  args = uid={accounts["uid"]} gid={accounts["gid"]} home={folder}/home/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""


class ImapServer:
    """A running Dovecot with one mailbox; `settings` are the application's REPLY_IMAP_* for it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.host = "127.0.0.1"
        self.port = free_port()
        self.user = USER
        self.password = PASSWORD
        self.process: subprocess.Popen | None = None

    @property
    def settings(self) -> dict:
        return {
            "REPLY_IMAP_HOST": self.host,
            "REPLY_IMAP_PORT": self.port,
            "REPLY_IMAP_SSL": False,
            "REPLY_IMAP_STARTTLS": False,
            "REPLY_IMAP_USER": self.user,
            "REPLY_IMAP_PASSWORD": self.password,
            "REPLY_IMAP_FOLDER": "INBOX",
            "REPLY_IMAP_TIMEOUT": 10,
        }

    def start(self) -> None:
        for name in ("run", "state", "home"):
            (self.folder / name).mkdir(parents=True, exist_ok=True)
        (self.folder / "passwd").write_text(f"{self.user}:{{PLAIN}}{self.password}::::::\n")
        accounts = _accounts()
        conf = self.folder / "dovecot.conf"
        conf.write_text(_config(self.folder, self.port, accounts))
        if os.getuid() == 0:  # the mail processes run as another user, who must reach and write the mailbox
            self.folder.chmod(0o711)
            os.chown(self.folder / "home", int(accounts["uid"]), int(accounts["gid"]))
        with open(self.folder / "dovecot.out", "wb") as output:
            self.process = subprocess.Popen([DOVECOT, "-F", "-c", str(conf)], stdout=output, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                output_text = (self.folder / "dovecot.out").read_text(errors="replace")
                self.process = None
                raise RuntimeError(f"Dovecot did not start:\n{output_text}\n{self._log()}")
            try:
                with socket.create_connection((self.host, self.port), timeout=1) as sock:
                    if sock.recv(100).startswith(b"* OK"):
                        return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"Dovecot did not answer on port {self.port}:\n{self._log()}")

    def _log(self) -> str:
        path = self.folder / "dovecot.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        self.process = None

    def connect(self) -> imaplib.IMAP4:
        imap = imaplib.IMAP4(self.host, self.port, timeout=10)
        imap.login(self.user, self.password)
        imap.select("INBOX")
        return imap

    def deliver(self, raw: bytes) -> None:
        """Put a message in the inbox, unread, as the office's mail server would deliver it."""
        imap = self.connect()
        try:
            status, data = imap.append("INBOX", "", imaplib.Time2Internaldate(time.time()), raw)
            assert status == "OK", data
        finally:
            imap.logout()

    def flags(self) -> list[set[str]]:
        """The flags of every message in the inbox, oldest first."""
        imap = self.connect()
        try:
            _, data = imap.uid("SEARCH", None, "ALL")  # type: ignore[arg-type]
            found = []
            for uid in (data[0] or b"").split():
                _, fetched = imap.uid("FETCH", uid, "(FLAGS)")  # type: ignore[arg-type]
                flags = imaplib.ParseFlags(fetched[0])
                found.append({f.decode() for f in flags})
            return found
        finally:
            imap.logout()

    def empty(self) -> None:
        imap = self.connect()
        try:
            _, data = imap.search(None, "ALL")
            if data[0]:
                imap.store(b",".join(data[0].split()).decode(), "+FLAGS.SILENT", r"(\Deleted)")
                imap.expunge()
        finally:
            imap.logout()


@pytest.fixture(scope="session")
def imap_server() -> Iterator[ImapServer]:
    """Dovecot on loopback for the whole run; required on CI, skipped elsewhere when missing.

    Its folder is a short path of its own (Dovecot's sockets live there, and their paths are limited), which
    the mail user can reach when the tests run as root.
    """
    if not Path(DOVECOT).exists():
        if ON_CI:
            pytest.fail(f"Dovecot is required on CI and {DOVECOT} is missing (apt-get install dovecot-imapd)")
        pytest.skip("Dovecot is not installed (apt-get install dovecot-imapd)")
    folder = Path(tempfile.mkdtemp(prefix="tavoli-imap-"))
    server = ImapServer(folder)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def imap_mailbox(imap_server: ImapServer) -> Iterator[ImapServer]:
    """The server with an empty inbox, emptied again after the test."""
    imap_server.empty()
    yield imap_server
    imap_server.empty()
