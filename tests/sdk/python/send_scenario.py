"""Send Bellwether's SDK scenario with an official Python SDK.

Usage: send_scenario.py {segment|rudder} HOST WRITE_KEY PREFIX

The scenario (ids are prefixed so several runs can share a server):
anonymous page view, identify linking it to a user (with email), a track,
a group call with firmographics, an event under a legacy anonymous id that an
alias then merges in, and a screen call. Exits non-zero if the SDK reports
any delivery error.
"""

import sys

errors = []


def load(sdk, host, write_key):
    if sdk == "segment":
        import segment.analytics as client

        client.host = host
    elif sdk == "rudder":
        import rudderstack.analytics as client

        client.dataPlaneUrl = host
    else:
        raise SystemExit(f"unknown sdk {sdk!r}")
    client.write_key = write_key
    client.max_retries = 2
    client.on_error = lambda error, batch: errors.append(repr(error))
    return client


def main():
    sdk, host, write_key, prefix = sys.argv[1:5]
    client = load(sdk, host, write_key)
    user, anon, legacy = f"{prefix}-user", f"{prefix}-anon", f"{prefix}-legacy"
    client.page(anonymous_id=anon, name="Pricing", properties={"path": "/pricing"})
    client.identify(
        user_id=user,
        anonymous_id=anon,
        traits={"email": f"{prefix}@example-{prefix}.io", "plan": "trial", "role": "champion"},
    )
    client.track(user_id=user, event="Demo Requested", properties={"source": sdk})
    client.group(user_id=user, group_id=f"{prefix}-acct", traits={"name": f"{prefix} Inc", "employees": 420})
    client.track(anonymous_id=legacy, event="Email Opened", properties={"campaign": "launch"})
    client.alias(previous_id=legacy, user_id=user)
    client.screen(user_id=user, name="Dashboard", properties={"tab": "overview"})
    client.flush()
    client.shutdown() if hasattr(client, "shutdown") else None
    if errors:
        print("delivery errors:", errors, file=sys.stderr)
        sys.exit(1)
    print("sent")


if __name__ == "__main__":
    main()
