"""Browser tests: Playwright's Python package driving Debian's Chromium, with an axe-core audit."""

import os
import shutil
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parent.parent
AXE_SCRIPT = PROJECT_DIR / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _missing(reason: str):
    if IN_CI:
        pytest.fail(reason)
    pytest.skip(reason)


# Content-Security-Policy violations the browser reported in the current test (any page, any
# context): the policy is enforced in the tests, and a violation fails the test that caused it.
CSP_VIOLATIONS: list[str] = []


def _record_csp_violation(message) -> None:
    text = message.text
    if "Content Security Policy" in text or "Content-Security-Policy" in text:
        CSP_VIOLATIONS.append(f"{message.type}: {text} ({message.location.get('url', '')})")


@pytest.fixture(autouse=True)
def _no_csp_violation():
    """Fail a browser test whose pages broke the Content-Security-Policy (seen in the console)."""
    CSP_VIOLATIONS.clear()
    yield
    if CSP_VIOLATIONS:
        found = list(CSP_VIOLATIONS)
        CSP_VIOLATIONS.clear()
        pytest.fail("The Content-Security-Policy was violated:\n" + "\n".join(found))


@pytest.fixture(scope="session")
def browser():
    executable = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")
    if not executable:
        _missing("Debian's chromium is not installed (apt-get install chromium)")
    if not AXE_SCRIPT.exists():
        _missing("axe-core is not installed: run `make test` (npm ci)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        new_context = browser.new_context

        def watched_context(*args, **kwargs):
            context = new_context(*args, **kwargs)
            context.on("console", _record_csp_violation)
            return context

        browser.new_context = watched_context
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def phone_page(browser, live_server):
    """A 360 px wide page, the narrowest screen we design for."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 360, "height": 740})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


# WCAG 2.0, 2.1 and 2.2 at levels A and AA (2.2 brings target-size, 2.5.8), and axe's best practices.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa", "best-practice"]
# Both widths we design for: a laptop and the narrowest phone.
AUDIT_WIDTHS = (1280, 360)
AXE_RUN = """async (tags) => await axe.run(document, {
    runOnly: {type: 'tag', values: tags},
    resultTypes: ['violations'],
})"""


def audit(page) -> None:
    """Fail the test on any axe-core violation (WCAG 2.2 AA) on the page as it is now, at 1280 and 360 px.

    The page is audited at its own width first, then at the other; its viewport is restored.
    """
    if not page.evaluate("() => typeof axe !== 'undefined'"):
        # Evaluated by the browser's devtools, which the page's Content-Security-Policy does not
        # govern (a script tag added to the page would be refused as inline script).
        page.evaluate(AXE_SCRIPT.read_text() + "\n;undefined")
    viewport = page.viewport_size
    widths = sorted(AUDIT_WIDTHS, key=lambda width: width != viewport["width"])
    problems = []
    try:
        for width in widths:
            if width != page.viewport_size["width"]:
                page.set_viewport_size({"width": width, "height": 900 if width > 600 else 740})
            result = page.evaluate(AXE_RUN, AXE_TAGS)
            for violation in result["violations"]:
                targets = [", ".join(node["target"]) for node in violation["nodes"][:5]]
                problems.append(
                    f"{width} px: {violation['id']} ({violation['impact']}): {violation['help']} -> {targets}"
                )
    finally:
        if page.viewport_size != viewport:
            page.set_viewport_size(viewport)
    if problems:
        pytest.fail(f"axe-core found {len(problems)} violation(s) on {page.url}:\n" + "\n".join(problems))


class AsgiServer:
    """The project's ASGI application served by uvicorn in a background thread (it can stream)."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.url = f"http://{host}:{port}"


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def asgi_server(transactional_db, settings):
    """uvicorn serving config.asgi's application on a free port, for tests that need streaming.

    pytest-django's live_server is WSGI and buffers a streamed response; this is the real thing.
    """
    import threading

    import uvicorn

    settings.INPROCESS_BEAT = False  # The test drives periodic work itself.
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    from config.asgi import application

    port = _free_port()
    config = uvicorn.Config(
        # Static files from the finders, as live_server does (no collectstatic in tests).
        ASGIStaticFilesHandler(application),
        host="127.0.0.1",
        port=port,
        lifespan="off",
        log_level="warning",
        loop="asyncio",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    for _ in range(500):
        if server.started or not thread.is_alive():
            break
        threading.Event().wait(0.01)
    if not server.started:
        pytest.fail("uvicorn did not start")
    yield AsgiServer("127.0.0.1", port)
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def asgi_page(browser, asgi_server):
    """A browser page on the ASGI server (live updates stream there, unlike on live_server)."""
    context = browser.new_context(base_url=asgi_server.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def sign_in(page, server_url: str, user) -> None:
    """Give the browser page a session of ``user`` for the server at ``server_url`` (no log-in form)."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": server_url}]
    )
