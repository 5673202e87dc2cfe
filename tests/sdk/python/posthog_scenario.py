"""Send a PostHog scenario with the official posthog Python client.

Usage: posthog_scenario.py HOST WRITE_KEY PREFIX

An anonymous visitor views the pricing page and answers a quiz, then
identifies as a user (merging the anonymous history) with traits, gets
one more trait with set(), and requests a demo under the user's
distinct id. Batched and gzipped (POST /batch/), flushed before exit.
Exits non-zero if the client reports any delivery error.
"""

import sys

from posthog import Posthog


def main():
    host, write_key, prefix = sys.argv[1:4]
    errors = []
    client = Posthog(
        write_key,
        host=host,
        gzip=True,
        max_retries=1,
        flush_at=100,
        on_error=lambda *args: errors.append(repr(args)),
    )
    anon, user = f"{prefix}-anon", f"{prefix}-user"
    client.capture(
        "$pageview",
        distinct_id=anon,
        properties={"$current_url": "https://shop.example/pricing?ref=ad", "$title": "Pricing"},
    )
    client.capture("Quiz Answered", distinct_id=anon, properties={"benefit": "compliance"})
    client.capture(
        "$identify",
        distinct_id=user,
        properties={"$anon_distinct_id": anon, "$set": {"plan": "trial"}},
    )
    client.set(distinct_id=user, properties={"role": "cto"})
    client.capture("Demo Requested", distinct_id=user)
    client.flush()
    client.shutdown()
    if errors:
        print("\n".join(errors), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
