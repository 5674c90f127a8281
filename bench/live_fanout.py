"""Live fan-out: N streaming clients on one channel, events published, delivery latency measured.

Starts the production-style server (uvicorn, one worker, config.settings.production, Redis
Streams), opens N Server-Sent Events connections to /live/stream on one channel, publishes
events as a new reply would (core.live.publish, from another process than the server), and
measures for every client and event the delay between publishing and arrival.

    REDIS_URL=redis://127.0.0.1:6379/1 .venv/bin/python bench/live_fanout.py --clients 500 2000

Appends the numbers and the machine to bench/RESULTS.md.
"""

import argparse
import asyncio
import os
import platform
import resource
import secrets
import socket
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_server(port: int, redis_url: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(60),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "REDIS_URL": redis_url,
        "LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "bench.live_asgi:application", "--host", "127.0.0.1"]
        + ["--port", str(port), "--workers", "1", "--lifespan", "off", "--no-access-log"]
        + ["--log-level", "warning", "--backlog", "4096"],
        cwd=PROJECT_DIR,
        env=env,
    )


class Client:
    def __init__(self):
        self.connected = asyncio.Event()
        self.arrivals: dict[int, float] = {}
        self.failed: str | None = None
        self.writer = None


async def run_client(client: Client, port: int, path: str, gate: asyncio.Semaphore) -> None:
    import json

    try:
        async with gate:
            reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 30)
            client.writer = writer
            writer.write(
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n".encode()
            )
            await writer.drain()
            status = await asyncio.wait_for(reader.readline(), 30)
            if b" 200 " not in status:
                client.failed = status.decode(errors="replace").strip() or "no status"
                return
            while (await asyncio.wait_for(reader.readline(), 30)) not in (b"\r\n", b""):
                pass  # Headers.
        client.connected.set()
        while True:
            line = await reader.readline()
            if not line:
                client.failed = "closed by the server"
                return
            # Chunked transfer: payload lines start with "data: "; sizes and comments are skipped.
            if line.startswith(b"data: "):
                now = time.monotonic()
                message = json.loads(line[6:])
                client.arrivals[message["data"]["seq"]] = now
    except asyncio.CancelledError:
        raise
    except Exception as error:  # noqa: BLE001 - every failure is counted and reported
        client.failed = f"{type(error).__name__}: {error}"
    finally:
        client.connected.set()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


async def measure(n_clients: int, events: int, port: int, server_pid: int) -> dict:
    from core import live

    channel = f"/bench/{uuid.uuid4().hex[:10]}"
    path = f"/live/stream?channel={channel}"
    gate = asyncio.Semaphore(100)  # Connect in waves, like a webinar's audience arriving.
    clients = [Client() for _ in range(n_clients)]
    rss_idle = rss_mb(server_pid)
    started = time.monotonic()
    tasks = [asyncio.create_task(run_client(c, port, path, gate)) for c in clients]
    await asyncio.gather(*(c.connected.wait() for c in clients))
    connect_seconds = time.monotonic() - started
    rss_connected = rss_mb(server_pid)

    # Warm the publisher (thread pool, Redis connection) on another channel: not part of fan-out.
    await asyncio.to_thread(live.publish, channel + "-warmup", "warmup", {})
    server_cpu, client_cpu, wall = cpu_seconds(server_pid), time.process_time(), time.monotonic()
    sent: dict[int, float] = {}
    for seq in range(events):
        sent[seq] = time.monotonic()
        # From a thread, as a web process's on_commit would: the event loop keeps reading.
        await asyncio.to_thread(live.publish, channel, "post_created", {"seq": seq, "post_id": 1000 + seq})
        await asyncio.sleep(0.5)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if all(len(c.arrivals) == events for c in clients if not c.failed):
            break
        await asyncio.sleep(0.1)
    rss_after = rss_mb(server_pid)
    wall = time.monotonic() - wall
    server_cpu = (cpu_seconds(server_pid) - server_cpu) / wall
    client_cpu = (time.process_time() - client_cpu) / wall
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for c in clients:
        if c.writer is not None:
            c.writer.close()

    latencies = [
        (c.arrivals[seq] - sent[seq]) * 1000 for c in clients for seq in range(events) if seq in c.arrivals
    ]
    failures = [c.failed for c in clients if c.failed and c.failed != "closed by the server"]
    missing = sum(events - len(c.arrivals) for c in clients)
    per_event = [
        statistics.median([(c.arrivals[seq] - sent[seq]) * 1000 for c in clients if seq in c.arrivals] or [0])
        for seq in range(events)
    ]
    return {
        "per_event_p50": per_event,
        "server_cpu": server_cpu,
        "client_cpu": client_cpu,
        "clients": n_clients,
        "events": events,
        "connect_s": connect_seconds,
        "failures": len(failures),
        "failure_examples": sorted(set(failures))[:3],
        "missing": missing,
        "p50": statistics.median(latencies) if latencies else float("nan"),
        "p95": percentile(latencies, 0.95) if latencies else float("nan"),
        "max": max(latencies) if latencies else float("nan"),
        "rss_idle": rss_idle,
        "rss_connected": rss_connected,
        "rss_after": rss_after,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[500, 2000])
    parser.add_argument("--events", type=int, default=20)
    parser.add_argument("--no-write", action="store_true", help="do not append to bench/RESULTS.md")
    args = parser.parse_args()

    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        sys.exit("Set REDIS_URL (the benchmark measures the Redis Streams transport).")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()

    results = []
    for n in args.clients:
        port = free_port()
        server = start_server(port, redis_url)
        try:
            for _ in range(200):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    time.sleep(0.1)
            time.sleep(0.5)
            result = asyncio.run(measure(n, args.events, port, server.pid))
        finally:
            server.terminate()
            server.wait(timeout=30)
        results.append(result)
        print(
            f"{n:>5} clients: p50 {result['p50']:.1f} ms, p95 {result['p95']:.1f} ms, "
            f"max {result['max']:.1f} ms, failures {result['failures']}, missing {result['missing']}, "
            f"connect {result['connect_s']:.1f} s, server RSS {result['rss_idle']:.0f} -> "
            f"{result['rss_connected']:.0f} -> {result['rss_after']:.0f} MB"
        )
        print(
            f"   CPU while publishing: server {result['server_cpu']:.0%}, clients {result['client_cpu']:.0%}"
        )
        print("   p50 per event (ms):", " ".join(f"{v:.0f}" for v in result["per_event_p50"]))
        for example in result["failure_examples"]:
            print("   failure:", example)

    if not args.no_write:
        write_results(results, args.events)


def write_results(results: list[dict], events: int) -> None:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    lines = [
        "",
        f"## Live fan-out — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"Machine: {os.cpu_count()} CPUs ({cpu}), {memory_gb:.0f} GB RAM, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}; load average "
        f"{os.getloadavg()[0]:.1f} when the run ended. Server: uvicorn, 1 worker, "
        "config.settings.production, Redis Streams; clients and publisher on the same machine "
        f"(they share its CPUs). {events} events, 0.5 s apart, on one channel; latency is from "
        "publish to arrival at each client.",
        "",
        "| clients | p50 ms | p95 ms | max ms | failed connections | events missing | connect time s "
        "| server RSS MB (idle → connected → after) | CPU server / clients |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['clients']} | {r['p50']:.1f} | {r['p95']:.1f} | {r['max']:.1f} | {r['failures']} | "
            f"{r['missing']} | {r['connect_s']:.1f} | {r['rss_idle']:.0f} → {r['rss_connected']:.0f} → "
            f"{r['rss_after']:.0f} | {r['server_cpu']:.0%} / {r['client_cpu']:.0%} |"
        )
    path = PROJECT_DIR / "bench" / "RESULTS.md"
    if not path.exists():
        path.write_text("# Benchmark results\n")
    with path.open("a") as handle:
        handle.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
