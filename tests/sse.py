"""A small blocking Server-Sent Events client for tests (http.client; no extra dependency)."""

import http.client
import json


class SSEClient:
    def __init__(self, server, path: str, headers: dict | None = None, timeout: float = 15):
        self.connection = http.client.HTTPConnection(server.host, server.port, timeout=timeout)
        self.connection.request("GET", path, headers={"Accept": "text/event-stream", **(headers or {})})
        self.socket = self.connection.sock  # the response keeps using it after the connection lets go
        self.response = self.connection.getresponse()
        self.status = self.response.status
        self.retry = None
        self.comments = 0

    def next_event(self) -> dict:
        """The next event as {"id", "event", "channel", "data"}; TimeoutError after the socket timeout."""
        fields: dict = {}
        data_lines: list[str] = []
        while True:
            try:
                raw = self.response.readline()
            except TimeoutError as error:
                raise TimeoutError("no event arrived") from error
            if not raw:
                raise ConnectionError("the server closed the stream")
            line = raw.decode().rstrip("\r\n")
            if line == "":
                if data_lines:
                    # The server's payload: {"event", "channel", "data"}; the SSE id alongside.
                    return {"id": fields.get("id"), **json.loads("\n".join(data_lines))}
                continue
            if line.startswith(":"):
                self.comments += 1
                continue
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "data":
                data_lines.append(value)
            elif name == "retry":
                self.retry = int(value)
            else:
                fields[name] = value

    def set_timeout(self, seconds: float) -> None:
        """From now on, next_event raises TimeoutError when nothing arrives for this long."""
        self.socket.settimeout(seconds)

    def close(self) -> None:
        # The response holds its own reference to the socket: close both, or the server never notices.
        self.response.close()
        self.connection.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
