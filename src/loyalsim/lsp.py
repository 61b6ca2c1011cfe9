"""`loyalsim lsp`: a language server that gives editors `loyalsim validate`'s issues as you type.

Where: outside the pipeline; it calls the validate stage on each open document's text, so an
editor shows what the JSON Schema cannot express — unknown tier references, money with too
many decimals, a campaign that changes nothing, a scenario naming a missing program — with
the same codes, messages and hints as the CLI, and with the project's suppressions
(`loyalsim.toml`, `[tool.loyalsim]`, `# loyalsim: ignore[...]`) applied. Needs the optional
dependency pygls (`pip install 'loyalsim[lsp]'`); nothing else in loyalsim imports it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from loyalsim import __version__
from loyalsim.issues import Issue, Severity

# A document is loyalsim's when it says so: its apiVersion, its kind, or the schema it names.
# Every other YAML file the editor opens (CI workflows, compose files) gets no diagnostics.
_OURS = re.compile(
    r"^\s*(?:apiVersion:\s*[\"']?loyalsim/|kind:\s*[\"']?(?:Program|Scenario)\b"
    r"|#\s*yaml-language-server:\s*\$schema=\S*(?:program|scenario)\.schema\.json)",
    re.M,
)


def is_loyalsim(text: str) -> bool:
    """Whether ``text`` is a loyalsim program or scenario (or means to be one)."""
    return _OURS.search(text) is not None


def diagnostics(text: str, file: str) -> list[Any]:
    """The LSP diagnostics of ``text``, validated as if it were the file ``file``; none for a YAML
    document that is not loyalsim's."""
    from lsprotocol import types

    if not is_loyalsim(text):
        return []

    from loyalsim.validate import validate_one
    from loyalsim.validate.config import find_config

    path = Path(file)
    result = validate_one(path, file, find_config(path.parent), raw=text.encode("utf-8"))
    severity = {
        Severity.ERROR: types.DiagnosticSeverity.Error,
        Severity.WARNING: types.DiagnosticSeverity.Warning,
    }
    return [
        types.Diagnostic(
            range=_range(issue),
            severity=severity.get(issue.severity, types.DiagnosticSeverity.Information),
            code=issue.code,
            source="loyalsim",
            message=issue.message + (f"\n{issue.hint}" if issue.hint else ""),
        )
        for issue in result.issues
    ]


def _range(issue: Issue) -> Any:
    """An issue's place as an LSP range (0-based); a whole first line when it has no position."""
    from lsprotocol import types

    line = max(issue.line - 1, 0)
    start = max(issue.column - 1, 0)
    end = issue.end_column - 1 if issue.end_column else start + 1
    return types.Range(types.Position(line, start), types.Position(line, max(end, start + 1)))


def server() -> Any:
    """The language server: full-document sync; diagnostics on open, change and save."""
    from lsprotocol import types
    from pygls import uris
    from pygls.lsp.server import LanguageServer

    lsp = LanguageServer("loyalsim", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Full)

    def publish(uri: str) -> None:
        document = lsp.workspace.get_text_document(uri)
        file = uris.to_fs_path(uri) or uri
        lsp.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(
                uri=uri, version=document.version, diagnostics=diagnostics(document.source, file)
            )
        )

    @lsp.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(params: types.DidOpenTextDocumentParams) -> None:
        publish(params.text_document.uri)

    @lsp.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(params: types.DidChangeTextDocumentParams) -> None:
        publish(params.text_document.uri)

    @lsp.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(params: types.DidSaveTextDocumentParams) -> None:
        publish(params.text_document.uri)

    @lsp.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(params: types.DidCloseTextDocumentParams) -> None:
        lsp.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=params.text_document.uri, diagnostics=[])
        )

    return lsp
