"""`loyalsim lsp`: the real command, spoken to over stdio as an editor does (JSON-RPC, LSP)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import loyalsim_executable

BROKEN = """apiVersion: loyalsim/v1
kind: Program
metadata: {name: t, currency: USD}
type: tiered
points: {name: points, value: 0.01}
earn:
  - {id: base, kind: spend, rate: 1, when: {tiers: [gld]}}
tiers:
  metric: spend
  window: {kind: calendar_year}
  levels:
    - {id: member, threshold: 0}
    - {id: gold, threshold: 500}
rewards:
  catalog:
    - {id: r, kind: discount, cost: 500, face_value: 5.001}
"""


class Client:
    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [loyalsim_executable(), "lsp"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.next_id = 0

    def send(self, method: str, params: Any, request: bool = False) -> int | None:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "params": params}
        if request:
            self.next_id += 1
            message["id"] = self.next_id
        body = json.dumps(message).encode()
        assert self.process.stdin is not None
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.process.stdin.flush()
        return self.next_id if request else None

    def receive(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        length = 0
        while line := self.process.stdout.readline().strip():
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        assert length, "the server closed the connection"
        message: dict[str, Any] = json.loads(self.process.stdout.read(length))
        return message

    def until(self, predicate: Any, limit: int = 50) -> dict[str, Any]:
        for _ in range(limit):
            message = self.receive()
            if predicate(message):
                return message
        raise AssertionError("no such message")


@pytest.mark.slow
def test_an_editor_gets_the_semantic_rules_as_diagnostics_and_they_clear_when_fixed(tmp_path: Path) -> None:
    program = tmp_path / "p.yaml"
    uri = program.as_uri()
    client = Client()
    try:
        asked = client.send(
            "initialize", {"processId": None, "rootUri": tmp_path.as_uri(), "capabilities": {}}, request=True
        )
        reply = client.until(lambda m: m.get("id") == asked)
        assert reply["result"]["serverInfo"]["name"] == "loyalsim"
        client.send("initialized", {})
        client.send(
            "textDocument/didOpen",
            {"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": BROKEN}},
        )
        published = client.until(lambda m: m.get("method") == "textDocument/publishDiagnostics")
        found = {d["code"]: d for d in published["params"]["diagnostics"]}
        # What the JSON Schema cannot say: an unknown tier (with "did you mean"), money past cents.
        assert found["LS211"]["range"]["start"] == {"line": 6, "character": 52}
        assert "did you mean 'gold'" in found["LS211"]["message"] and found["LS211"]["severity"] == 1
        assert "LS226" in found and found["LS226"]["range"]["start"]["line"] == 15
        fixed = BROKEN.replace("[gld]", "[gold]").replace("5.001", "5.00")
        client.send(
            "textDocument/didChange",
            {"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": fixed}]},
        )
        cleared = client.until(lambda m: m.get("method") == "textDocument/publishDiagnostics")
        assert cleared["params"]["diagnostics"] == [] and cleared["params"]["version"] == 2
        # Other YAML files the editor opens are left alone.
        other = (tmp_path / "compose.yaml").as_uri()
        client.send(
            "textDocument/didOpen",
            {
                "textDocument": {
                    "uri": other,
                    "languageId": "yaml",
                    "version": 1,
                    "text": "services:\n  web: {image: nginx}\n",
                }
            },
        )
        quiet = client.until(
            lambda m: m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] == other
        )
        assert quiet["params"]["diagnostics"] == []
        done = client.send("shutdown", None, request=True)
        client.until(lambda m: m.get("id") == done)
        client.send("exit", None)
        assert client.process.wait(timeout=10) == 0
    finally:
        if client.process.poll() is None:
            client.process.kill()


@pytest.mark.parametrize(
    ("text", "ours"),
    [
        ("apiVersion: loyalsim/v1\nkind: Program\n", True),
        ("kind: Scenario\n", True),
        ("# yaml-language-server: $schema=../schemas/program.schema.json\nfoo: 1\n", True),
        ("services:\n  web: {image: nginx}\n", False),
        ("on: push\njobs: {}\n", False),
        ("kind: Deployment\n", False),
    ],
)
def test_only_loyalsims_documents_are_judged(text: str, ours: bool) -> None:
    from loyalsim.lsp import diagnostics, is_loyalsim

    assert is_loyalsim(text) is ours
    if not ours:
        assert diagnostics(text, "/tmp/x.yaml") == []
