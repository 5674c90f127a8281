"""Discourse's official MCP server (`@discourse/mcp`, from npm) against a live server.

It starts tethered to the site (it reads /about.json first), then an MCP client speaks
JSON-RPC over its stdin/stdout, one message a line, and calls the tools an assistant uses:
search, read a topic, read a post, get a person, create a post.
"""

import json
import os
import queue
import shutil
import subprocess
import threading

import pytest
from django.conf import settings

from forum.models import Post
from tests.factories import CategoryFactory, OfficialFactory, TopicFactory

pytestmark = pytest.mark.django_db(transaction=True)

SERVER = settings.BASE_DIR / "node_modules" / "@discourse" / "mcp" / "dist" / "index.js"
TIMEOUT = 60


class McpClient:
    """The client side of MCP over stdio: JSON-RPC 2.0 requests and answers, one per line."""

    def __init__(self, command: list[str]):
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=settings.BASE_DIR,
        )
        self.lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.next_id = 0

    def _read(self):
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def send(self, message: dict) -> None:
        self.process.stdin.write(json.dumps(message) + "\n")
        self.process.stdin.flush()

    def request(self, method: str, params: dict | None = None) -> dict:
        self.next_id += 1
        self.send({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params or {}})
        while True:
            try:
                line = self.lines.get(timeout=TIMEOUT)
            except queue.Empty:
                raise AssertionError(f"no answer to {method} in {TIMEOUT} s: {self.stderr()}") from None
            if line is None:
                raise AssertionError(f"the MCP server stopped: {self.stderr()}")
            message = json.loads(line)
            if message.get("id") == self.next_id:
                assert "error" not in message, message
                return message["result"]

    def call(self, tool: str, **arguments) -> dict:
        result = self.request("tools/call", {"name": tool, "arguments": arguments})
        assert not result.get("isError"), result
        return json.loads(result["content"][0]["text"])

    def stderr(self) -> str:
        if self.process.poll() is None:
            self.process.kill()
        return self.process.stderr.read()[-3000:]

    def close(self):
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _node_or_skip() -> str:
    node = shutil.which("node")
    if node and SERVER.exists():
        return node
    message = "node and node_modules/@discourse/mcp are needed (`npm ci`, as `make` does)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def test_discourses_mcp_server_works_against_the_forum(live_server):
    from api.services import create_api_key

    node = _node_or_skip()
    category = CategoryFactory(slug="digitalisation", name="Digitalisation")
    question = TopicFactory(
        category=category,
        title="How does your city close the digital divide?",
        raw="Tell us what *worked*: libraries lending laptops, hotspots, training.",
    )
    bot = OfficialFactory(username="harare_ict", position="Head of ICT Division")
    _key, raw_key = create_api_key(None, bot)
    auth = [{"site": live_server.url, "api_key": raw_key, "api_username": "harare_ict"}]
    client = McpClient(
        [
            node,
            str(SERVER),
            "--site",
            live_server.url,
            "--auth_pairs",
            json.dumps(auth),
            "--allow_writes",
            "--tools_mode",
            "discourse_api_only",
            "--log_level",
            "error",
        ]
    )
    try:
        started = client.request(
            "initialize",
            {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "pytest", "version": "1"},
            },
        )
        assert started["serverInfo"]["name"] == "@discourse/mcp"
        client.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        tools = {tool["name"] for tool in client.request("tools/list")["tools"]}
        wanted = {
            "discourse_search",
            "discourse_read_topic",
            "discourse_read_post",
            "discourse_get_user",
            "discourse_create_post",
        }
        assert wanted <= tools

        found = client.call("discourse_search", query="hotspots")
        assert [row["id"] for row in found["results"]] == [question.pk]
        assert found["results"][0]["title"] == "How does your city close the digital divide?"

        topic = client.call("discourse_read_topic", topic_id=question.pk)
        assert topic["title"] == "How does your city close the digital divide?"
        # The raw Markdown, not the HTML (include_raw=true).
        assert (
            topic["posts"][0]["raw"]
            == "Tell us what *worked*: libraries lending laptops, hotspots, training."
        )

        first = question.posts.get(number=1)
        post = client.call("discourse_read_post", post_id=first.pk)
        assert "libraries lending laptops" in json.dumps(post)

        person = client.call("discourse_get_user", username="harare_ict")
        assert person["username"] == "harare_ict"

        created = client.call(
            "discourse_create_post", topic_id=question.pk, raw="In Harare, libraries lend laptops too."
        )
        assert created["username"] == "harare_ict"
        assert created["post_number"] == 2
        assert Post.objects.get(pk=created["id"]).raw == "In Harare, libraries lend laptops too."
    finally:
        client.close()
