"""``mediatool profiles``: list the Application Profiles, or show one."""

from __future__ import annotations

from pathlib import Path

import click

from mediatool import profiles
from mediatool.cli.errors import handle_errors
from mediatool.cli.options import json_option, profile_dir_option
from mediatool.cli.output import emit_json


def _ts_names(uids: tuple[str, ...]) -> str:
    from pydicom.uid import UID

    return ", ".join(UID(u).keyword or u for u in uids)


@click.group("profiles", invoke_without_command=True)
@profile_dir_option
@json_option
@click.pass_context
def profiles_group(ctx: click.Context, profile_dir: Path | None, as_json: bool) -> None:
    """List the Application Profiles (PS3.11): ID, title, medium, Transfer Syntaxes.

    \b
    Example:
      mediatool profiles
      mediatool profiles show STD-XABC-CD
      mediatool profiles show STD-GEN-DVD-J2K --json
    """
    ctx.ensure_object(dict)
    ctx.obj["profile_dir"] = profile_dir
    if ctx.invoked_subcommand is not None:
        return
    with handle_errors():
        found = profiles.list_profiles(profile_dir)
        if as_json:
            emit_json({"schema": "mediatool.profiles/1", "profiles": [p.as_dict() for p in found]})
            return
        width = max(len(p.id) for p in found)
        for p in found:
            every = set(p.ts_order).union(*p.ts_by_class.values()) if p.ts_by_class else set()
            extra = sorted(every - set(p.ts_order))
            ts = _ts_names(p.ts_order) + (
                f" (+ {_ts_names(tuple(extra))} for some SOP Classes)" if extra else ""
            )
            click.echo(f"{p.id:<{width}}  {p.media:<3}  {p.title}\n{'':<{width}}       {ts}")


@profiles_group.command("show")
@click.argument("profile_id")
@json_option
@click.pass_context
def show(ctx: click.Context, profile_id: str, as_json: bool) -> None:
    """Print one Application Profile: its rules and where they come from.

    \b
    Example:
      mediatool profiles show STD-CTMR-CD
      mediatool profiles show STD-GEN-CD --json
    """
    with handle_errors():
        profile = profiles.load(profile_id, ctx.obj.get("profile_dir"))
        doc = profile.as_dict()
        if as_json:
            emit_json({"schema": "mediatool.profile/1", **doc})
            return
        click.echo(_text(profile))


def _text(p: profiles.Profile) -> str:
    from pydicom.uid import UID

    lines = [
        f"{p.id}: {p.title}",
        f"  source:      {p.source}",
        f"  edition:     {p.edition}",
        f"  transcribed: {p.transcribed_from or '-'}",
        f"  medium:      {p.media} ({p.filesystem or '-'})",
        f"  transfer syntaxes: {_ts_names(p.ts_order)}",
        f"  converts to: {_ts_names((p.convert_to,))}"
        + (
            f"; --compress lossless: {_ts_names((p.lossless_compress_to,))}"
            if p.lossless_compress_to
            else ""
        )
        + (
            f"; --compress lossy: {_ts_names((p.lossy_compress_to,))}"
            if p.lossy_compress_to
            else ""
        ),
        "  SOP classes: "
        + (
            "any Storage SOP Class"
            if p.sop_classes is None
            else ", ".join(sorted(UID(u).keyword or u for u in p.sop_classes))
        ),
    ]
    for uid, ts in sorted(p.ts_by_class.items()):
        lines.append(f"    {UID(uid).keyword or uid}: {_ts_names(ts)}")
    for rtype, keys in sorted(p.extra_keys.items()):
        types = p.key_types.get(rtype, {})
        shown = ", ".join(f"{k} ({types.get(k, '1C')})" for k in keys)
        lines.append(f"  {rtype} keys: {shown}")
    if p.icons is not None:
        i = p.icons
        lines.append(
            f"  icons: {'required' if i.required else 'optional (build writes them)'} on "
            f"{', '.join(i.records)} records, {i.size}x{i.size}, {i.bits} bits, "
            f"{' or '.join(i.photometric)}"
        )
    for rule in p.image_rules:
        scope = (
            "all images"
            if rule.sop_classes is None
            else ", ".join(sorted(UID(u).keyword or u for u in rule.sop_classes))
        )
        parts = [f"{k} in {', '.join(v)}" for k, v in rule.allowed.items()]
        parts += [f"Rows <= {rule.max_rows}"] if rule.max_rows else []
        parts += [f"Columns <= {rule.max_columns}"] if rule.max_columns else []
        lines.append(f"  image rule ({scope}): {'; '.join(parts)}")
    lines.append(f"  file: {p.path}")
    return "\n".join(lines)
