"""Drives Bellwether's MCP server with the official Python MCP client.

    agent.py http URL TOKEN
    agent.py stdio BINARY CONFIG DATA

Lists tools and resources, calls every tool once (and a few on purpose
wrongly), and prints one JSON object with what came back; the Rust e2e
test asserts on it.
"""

import asyncio
import json
import sys

from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client



def connect(argv):
    if argv[1] == "http":
        url, token = argv[2], argv[3]
        http = create_mcp_http_client(headers={"Authorization": f"Bearer {token}"})
        return Client(streamable_http_client(url, http_client=http))
    binary, config, data = argv[2], argv[3], argv[4]
    params = StdioServerParameters(command=binary, args=["mcp", "--config", config, "--data", data])
    return Client(params)


def outcome(result):
    return {
        "is_error": bool(result.is_error),
        "structured": result.structured_content,
    }


async def main(argv):
    user = argv[5] if argv[1] == "stdio" else argv[4]
    report = {}
    async with connect(argv) as client:
        report["protocol_version"] = client.protocol_version
        tools = await client.list_tools()
        report["tools"] = sorted(tool.name for tool in tools.tools)
        report["schemas_have_required"] = all(
            "type" in tool.input_schema for tool in tools.tools
        )
        resources = await client.list_resources()
        report["resources"] = sorted(str(r.uri) for r in resources.resources)
        language = await client.read_resource("bellwether://docs/language")
        report["language_mentions_count"] = "count(" in language.contents[0].text
        definitions = await client.read_resource("bellwether://definitions")
        report["definitions_mentions_segment"] = "[[segment]]" in definitions.contents[0].text

        calls = {
            "list_segments": {},
            "get_contact": {"user_id": user, "events": 5},
            "explain_membership": {"subject": "contact", "id": user, "segment": "demo_requesters"},
            "find_subjects": {"segment": "demo_requesters", "score": "intent", "min_score": 1},
            "segment_report": {"segment": "demo_requesters", "outcome": "Deal Won"},
            "digest_preview": {"name": "weekly-review"},
            "digest_preview_list": {},
            "check_definition": {"expression": 'exists("Demo Requested")'},
            "check_definition_bad": {"expression": 'count("Demo Requested", last 7d) >= '},
            "get_account": {"group_id": "mcp-acme"},
            "get_contact_missing_argument": {},
            "get_contact_wrong_type": {"user_id": 42},
            "find_subjects_unknown_segment": {"segment": "no_such_segment"},
            "apply_definitions_dry_run": {"definitions": "", "dry_run": True},
        }
        for label, arguments in calls.items():
            tool = {
                "check_definition_bad": "check_definition",
                "get_contact_missing_argument": "get_contact",
                "get_contact_wrong_type": "get_contact",
                "find_subjects_unknown_segment": "find_subjects",
                "apply_definitions_dry_run": "apply_definitions",
                "digest_preview_list": "digest_preview",
            }.get(label, label)
            report[label] = outcome(await client.call_tool(tool, arguments))
    print(json.dumps(report))


if __name__ == "__main__":
    asyncio.run(main(sys.argv))
