"""A webhook receiver for Bellwether's end-to-end tests.

Verifies every delivery with the official `standardwebhooks` library
(`Webhook(secret).verify(body, headers)`) and appends one JSON line per
attempt to --log: {"valid", "status", "id", "timestamp", "body"}. What it
answers comes from --mode-file, read on every request:

  ok          204 after verifying the signature (400 if it is invalid)
  500         500 Internal Server Error
  410         410 Gone
  429:N       429 Too Many Requests with Retry-After: N

Prints "listening PORT" once it accepts connections.
"""

import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook, WebhookVerificationError


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--mode-file", required=True)
    args = parser.parse_args()
    webhook = Webhook(args.secret)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            length = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(length)
            with open(args.mode_file, encoding="utf-8") as f:
                mode = f.read().strip() or "ok"
            headers = {k.lower(): v for k, v in self.headers.items()}
            valid = True
            try:
                webhook.verify(body, headers)
            except WebhookVerificationError:
                valid = False
            status, extra = answer(mode, valid)
            entry = {
                "valid": valid,
                "status": status,
                "received_at": time.time(),
                "id": headers.get("webhook-id"),
                "timestamp": headers.get("webhook-timestamp"),
                "body": json.loads(body) if body else None,
            }
            with lock, open(args.log, "a", encoding="utf-8") as log:
                log.write(json.dumps(entry) + "\n")
            self.send_response(status)
            for name, value in extra.items():
                self.send_header(name, value)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *_args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print(f"listening {server.server_address[1]}", flush=True)
    server.serve_forever()


def answer(mode: str, valid: bool) -> tuple[int, dict]:
    if mode == "500":
        return 500, {}
    if mode == "410":
        return 410, {}
    if mode.startswith("429:"):
        return 429, {"Retry-After": mode.split(":", 1)[1]}
    return (204 if valid else 400), {}


if __name__ == "__main__":
    main()
