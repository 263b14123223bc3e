"""Fixtures for end-to-end tests in real browsers (Chromium, Firefox, WebKitGTK).

A test that takes ``engine`` runs once per engine; ``browser_factory(engine, user)`` gives it
that user's browser, started once per test session and reset after each test. ``browser`` is
the shortcut for user 0. A missing engine skips loudly, or fails when ``CI=true``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.remote.webdriver import WebDriver

from .harness import ENGINES, BrowserPool, missing_reason, save_page, save_screenshot

_HERE = Path(__file__).resolve().parent
_POOL = pytest.StashKey[BrowserPool]()
_SKIPPED = pytest.StashKey[set[str]]()


def ci_requires_browsers(environ: Mapping[str, str]) -> bool:
    """True iff the environment is CI, where a missing browser engine is a failure."""
    return environ.get("CI", "").strip().lower() in ("true", "1", "yes")


@pytest.hookimpl(tryfirst=True)  # before `-m` deselection reads the markers
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_factory(pytestconfig: pytest.Config) -> Iterator[BrowserPool]:
    """The session's browsers: ``browser_factory(engine, user=0) -> WebDriver``.

    Each (engine, user) is its own browser process with its own profile, started on first
    use and kept for the whole session; all are quit when the session ends.
    """
    pool = BrowserPool()
    pytestconfig.stash[_POOL] = pool
    try:
        yield pool
    finally:
        pool.close_all()


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest, browser_factory: BrowserPool) -> Iterator[str]:
    """The engine name for this run of the test; its browsers are reset afterwards."""
    name: str = request.param
    reason = missing_reason(name)
    if reason is not None:
        hint = "install it as root with scripts/install-browsers"
        if ci_requires_browsers(os.environ):
            pytest.fail(f"browser engine missing under CI=true: {reason}; {hint}", pytrace=False)
        request.config.stash.setdefault(_SKIPPED, set()).add(name)
        pytest.skip(f"BROWSER ENGINE NOT INSTALLED, test not run: {reason}; {hint}")
    yield name
    browser_factory.reset(name)


@pytest.fixture
def browser(engine: str, browser_factory: BrowserPool) -> WebDriver:
    """User 0's browser in this test's engine."""
    return browser_factory(engine)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """On a failed test, save screenshot and DOM of its engine's browsers to tests/artifacts."""
    report = yield
    if report.when == "call" and report.failed:
        pool = item.config.stash.get(_POOL, None)
        engine = getattr(item, "funcargs", {}).get("engine")
        if pool is not None and engine is not None:
            for (_, user), driver in pool.in_use(engine):
                # test_x[webkit] -> test_x-webkit-user0
                name = item.name.replace("[", "-").replace("]", "") + f"-user{user}"
                try:
                    save_page(driver, name)
                    save_screenshot(driver, name)
                except (WebDriverException, OSError):
                    pass  # the browser may be what broke; the report already says why
    return report


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    pool = config.stash.get(_POOL, None)
    if pool is not None and pool.launch_secs:
        timings = ", ".join(
            f"{engine}[user {user}] {secs:.2f} s"
            for (engine, user), secs in sorted(pool.launch_secs.items())
        )
        terminalreporter.write_line(f"browser launch times: {timings}")
    skipped = config.stash.get(_SKIPPED, set())
    if skipped:
        terminalreporter.write_sep(
            "!",
            f"BROWSER ENGINES SKIPPED, NOT INSTALLED: {', '.join(sorted(skipped))} "
            "(run scripts/install-browsers as root)",
            red=True,
            bold=True,
        )
