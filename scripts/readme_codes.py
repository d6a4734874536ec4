"""Regenerate the finding-code table in README.md from mediatool.findings.CODES.

python3 scripts/readme_codes.py          # rewrite the block between the markers
python3 scripts/readme_codes.py --check  # exit 1 if README.md is out of date
"""

from __future__ import annotations

import sys
from pathlib import Path

from mediatool.findings import CODES

README = Path(__file__).resolve().parent.parent / "README.md"
BEGIN, END = "<!-- codes:begin -->", "<!-- codes:end -->"


def table() -> str:
    rows = [
        "| code | severity | check | rule | meaning | what to do |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for code, entry in sorted(CODES.items()):
        rows.append(
            f"| `{code}` | {entry.severity} | {entry.check or ''} | {entry.ref or ''} "
            f"| {entry.title} | {entry.action or ''} |"
        )
    return "\n".join(rows)


def render(text: str) -> str:
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return f"{head}{BEGIN}\n{table()}\n{END}{tail}"


def main() -> int:
    text = README.read_text(encoding="utf-8")
    new = render(text)
    if "--check" in sys.argv:
        return 0 if new == text else 1
    README.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
