"""Regenerate the tables of docs/conformance-statement.md from the code's own data.

python3 scripts/conformance.py          # rewrite every block between its markers
python3 scripts/conformance.py --check  # exit 1 if the document is out of date

Each table sits between ``<!-- generated:NAME:begin -->`` and ``<!-- generated:NAME:end -->``;
the prose around them is written by hand. The tables come from the constants the code uses
(SOP Class UIDs, presentation contexts, defaults of the command-line options, profiles, record
types, character sets), so a change in the code that the document does not follow fails
tests/test_conformance.py.
"""

from __future__ import annotations

import re
import sys
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path

import click
from pydicom.uid import UID
from pynetdicom import AE, ALL_TRANSFER_SYNTAXES, AllStoragePresentationContexts

from mediatool import __version__, modalities, profiles
from mediatool.cli import main as cli
from mediatool.dicom import recordtypes, uids
from mediatool.dicom.uids import IMPLEMENTATION_CLASS_UID, implementation_version_name
from mediatool.dicom.values import DEFINED_CHARSETS
from mediatool.importer import commit, worklist
from mediatool.net import association as pacs
from mediatool.net import store
from mediatool.retrieve import get

DOC = Path(__file__).resolve().parent.parent / "docs" / "conformance-statement.md"
_BLOCK = re.compile(r"(<!-- generated:(\w+):begin -->\n).*?(<!-- generated:\2:end -->)", re.S)


def _table(head: Iterable[str], rows: Iterable[Iterable[str]]) -> str:
    head = list(head)
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _uid(uid: str) -> str:
    return f"{UID(uid).name} | `{uid}`"


def _uid_row(uid: str, *rest: str) -> list[str]:
    return [*_uid(uid).split(" | "), *rest]


def _ts(uids: Iterable[str]) -> str:
    return ", ".join(UID(u).name for u in uids)


def _option(command: str, name: str) -> click.Option:
    group = cli
    for part in command.split():
        assert isinstance(group, click.Group)
        group = group.commands[part]
    for param in group.params:
        if isinstance(param, click.Option) and name in param.opts:
            return param
    raise KeyError(f"{command} {name}")


def implementation() -> str:
    ae = AE()
    return _table(
        ["item", "value"],
        [
            ["Implementation Class UID", f"`{IMPLEMENTATION_CLASS_UID}`"],
            ["Implementation Version Name", f"`{implementation_version_name(__version__)}`"],
            ["mediatool version", f"`{__version__}`"],
            ["Maximum PDU size received", f"{ae.maximum_pdu_size} bytes (pynetdicom default)"],
        ],
    )


def network_classes() -> str:
    native = _ts(pacs.NATIVE)
    rows = [
        _uid_row(uids.VERIFICATION, "SCU", "echo, import --to-pacs", native),
        _uid_row(
            commit.PUSH_MODEL,
            "SCU (and SCP role for the N-EVENT-REPORT)",
            "import --commit",
            native,
        ),
        _uid_row(worklist.MWL_FIND, "SCU", "import --worklist", native),
        _uid_row(uids.STUDY_ROOT_FIND, "SCU", "find, build --from-pacs", native),
        _uid_row(uids.PATIENT_ROOT_FIND, "SCU", "find, build --from-pacs", native),
        _uid_row(uids.STUDY_ROOT_GET, "SCU", "build --from-pacs", native),
        _uid_row(uids.PATIENT_ROOT_GET, "SCU", "build --from-pacs", native),
        _uid_row(uids.STUDY_ROOT_MOVE, "SCU", "build --from-pacs --move-aet", native),
        _uid_row(uids.PATIENT_ROOT_MOVE, "SCU", "build --from-pacs --move-aet", native),
    ]
    return _table(["SOP Class", "UID", "role", "used by", "transfer syntaxes"], rows)


def storage_roles() -> str:
    every = len(AllStoragePresentationContexts)
    rows = [
        [
            "Storage SCU (import --to-pacs)",
            "every Storage SOP Class found on the media",
            "each instance's own Transfer Syntax (one context each), plus a context with "
            f"{_ts(pacs.NATIVE)}; at most {store.MAX_CONTEXTS} contexts an association",
        ],
        [
            "Storage SCP, SCP role of C-GET (build --from-pacs)",
            f"the classes the PACS reports for the studies, then {len(get.COMMON)} common "
            f"ones, then pynetdicom's list; at most {get.MAX_CONTEXTS - 2}",
            f"all {len(ALL_TRANSFER_SYNTAXES)} syntaxes pynetdicom knows for classes the "
            f"studies hold, else {_ts(pacs.NATIVE)}",
        ],
        [
            "Storage SCP for C-MOVE (build --from-pacs --move-aet)",
            f"all {every} Storage SOP Classes of pynetdicom, and Verification",
            f"all {len(ALL_TRANSFER_SYNTAXES)} syntaxes pynetdicom knows",
        ],
    ]
    return _table(["role", "SOP Classes", "transfer syntaxes"], rows)


def get_common() -> str:
    return _table(["SOP Class", "UID"], [_uid(u).split(" | ") for u in get.COMMON])


def association_policy() -> str:
    net = pacs.Network()
    rows = [
        ["Calling AE title", f"`{net.calling_aet}` (`--calling-aet`)"],
        ["Called AE title, host, port", "given as `AET@HOST:PORT` (`--to-pacs`, `find PEER`, ...)"],
        ["Time-out (ACSE, DIMSE, network, connection)", f"{net.timeout:g} s (`--timeout`)"],
        ["Retries of a refused or broken association", f"{net.retries} (`--retries`)"],
        ["Delay between retries", f"{net.retry_delay:g} s (`--retry-delay`)"],
        [
            "Associations side by side (import)",
            f"{_option('import', '--associations').default} "
            f"(`--associations`, 1 to {_option('import', '--associations').type.max})",  # type: ignore[attr-defined]
        ],
        ["Associations side by side (find, retrieve, worklist, commitment)", "1"],
        [
            "Storage Commitment report wait",
            f"{_option('import', '--commit-timeout').default:g} s (`--commit-timeout`)",
        ],
        ["Storage Commitment report port", "`--listen-port` (none: same association only)"],
        ["C-MOVE destination", "`--move-aet` on `--port` (no default: both must be given)"],
        ["Presentation contexts an association", f"at most {store.MAX_CONTEXTS} (PS3.8 9.3.2.2)"],
    ]
    return _table(["parameter", "value"], rows)


def media_profiles() -> str:
    rows = []
    for p in profiles.list_profiles():
        classes = "any Storage" if p.sop_classes is None else f"{len(p.sop_classes)} listed"
        rows.append(
            [
                f"`{p.id}`",
                p.title,
                p.media or "-",
                p.filesystem or "-",
                _ts(p.ts_order) or "-",
                classes,
                "FSC, FSR",
            ]
        )
    head = ["profile", "title", "media", "file system", "transfer syntaxes", "SOP Classes", "roles"]
    return _table(head, rows)


def record_types() -> str:
    by_type: dict[str, list[str]] = defaultdict(list)
    for uid, rtype in recordtypes.SOP_CLASS_RECORD_TYPE.items():
        by_type[rtype].append(uid)
    rows = [
        [rtype, ", ".join(f"{UID(u).name} (`{u}`)" for u in sorted(uids))]
        for rtype, uids in sorted(by_type.items())
    ]
    rows.append(["IMAGE", "every other Storage SOP Class"])
    return _table(["Directory Record Type", "SOP Classes"], rows)


def charsets() -> str:
    return ", ".join(f"`{c}`" for c in sorted(DEFINED_CHARSETS) if c)


def modality_terms() -> str:
    rows = [
        [f"`{t.code}`", t.names["en"], t.names["pt-BR"], t.status, t.use or ""]
        for t in sorted(modalities.terms().values(), key=lambda t: (t.status, t.code))
    ]
    return _table(["code", "English", "Português (Brasil)", "status", "use instead"], rows)


TABLES: dict[str, Callable[[], str]] = {
    "implementation": implementation,
    "network_classes": network_classes,
    "storage_roles": storage_roles,
    "get_common": get_common,
    "association_policy": association_policy,
    "media_profiles": media_profiles,
    "record_types": record_types,
    "charsets": charsets,
    "modality_terms": modality_terms,
}


def render(text: str) -> str:
    missing = set(TABLES) - {m.group(2) for m in _BLOCK.finditer(text)}
    if missing:
        raise SystemExit(f"{DOC}: no markers for {', '.join(sorted(missing))}")
    return _BLOCK.sub(lambda m: f"{m.group(1)}{TABLES[m.group(2)]()}\n{m.group(3)}", text)


def main() -> int:
    text = DOC.read_text(encoding="utf-8")
    new = render(text)
    if "--check" in sys.argv:
        return 0 if new == text else 1
    DOC.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
