"""A running `bellwether serve` on the imported store: its resident memory
after loading, and one new event to its updated memberships (the 200 of
`/v1/track` comes once the event is durable and the contact and its
account are re-evaluated)."""

import base64
import http.client
import json
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

WRITE_KEY = "demo-write-key"
READ_TOKEN = "demo-admin-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


class Server:
    def __init__(self, binary: Path, config: Path, data_dir: Path, log: Path):
        self.port = free_port()
        self.log = open(log, "w")
        self.process = subprocess.Popen(
            [str(binary), "serve", "--config", str(config), "--data", str(data_dir),
             "--listen", f"127.0.0.1:{self.port}"],
            stdout=self.log, stderr=subprocess.STDOUT,
        )
        self.started = time.perf_counter()
        self.ready_in = self.wait_ready()

    def wait_ready(self, timeout=1800.0) -> float:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"bellwether serve exited: see {self.log.name}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=1):
                    return time.perf_counter() - self.started
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("bellwether serve did not get ready")

    def rss(self) -> int:
        return rss_bytes(self.process.pid)

    def contact(self, user_id: str):
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/api/v1/contacts/{user_id}",
            headers={"Authorization": f"Bearer {READ_TOKEN}"},
        )
        with urllib.request.urlopen(request) as response:
            return json.load(response)

    def track_latencies(self, user_ids, event: str):
        """Sends one `track` per user id, one after another; seconds each."""
        auth = base64.b64encode(f"{WRITE_KEY}:".encode()).decode()
        headers = {"Authorization": f"Basic {auth}", "Content-Type": "application/json"}
        conn = http.client.HTTPConnection("127.0.0.1", self.port)
        latencies = []
        for user_id in user_ids:
            body = json.dumps({"userId": user_id, "event": event})
            started = time.perf_counter()
            conn.request("POST", "/v1/track", body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            latencies.append(time.perf_counter() - started)
            if response.status != 200:
                raise RuntimeError(f"/v1/track answered {response.status}")
        conn.close()
        return latencies

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()
