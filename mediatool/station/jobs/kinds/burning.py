"""``burn``: write a done build job's ISO image(s) on one of the station's burners, each copy
read back and compared (:func:`mediatool.writers.burn.burn`).

The job needs ``burner:<name>`` (:attr:`mediatool.station.config.Burner.capability`): only a
station with that burner claims it. Between copies (and discs) on a real drive nobody can be
asked: the job ejects the disc and waits for a blank one, polling the drive, saying "insert a
blank disc" in its log. A pseudo-drive (``stdio:PATH``, ``{n}`` the copy) needs no change.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from mediatool.station.i18n import gettext as _
from mediatool.station.i18n import ngettext
from mediatool.station.jobs.context import BURNERS_ENV, JobContext, JobFailed
from mediatool.station.jobs.kinds import common

if TYPE_CHECKING:
    from mediatool.writers.burn import BurnOptions, BurnResult, NextMedium

POLL: Final = 5.0  # seconds between looks at the drive while waiting for a blank disc
WAIT: Final = 900.0  # seconds a blank disc is waited for before the job stops


def describe(params: Mapping[str, Any]) -> str:
    copies = int(params.get("copies") or 1)
    what = ngettext("%(num)d copy", "%(num)d copies", copies) % {"num": copies}
    return _("Burn %(copies)s of build job %(job)s on %(burner)s") % {
        "copies": what, "job": params.get("build_job", "?"), "burner": params.get("burner", "?"),
    }  # fmt: skip


def images(params: Mapping[str, Any]) -> list[Path]:
    """The ISO images to burn, one per disc, in order."""
    names = params.get("images")
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise JobFailed("the job has no 'images'", hint="this is a bug of the page that made it")
    return [Path(n) for n in names]


def device_of(device: str, k: int, discs: int) -> str:
    """A pseudo-drive's file per disc when the build has several: ``{n}`` → ``<k>-{n}``."""
    if discs > 1 and device.startswith("stdio:"):
        return device.replace("{n}", f"{k}-{{n}}")
    return device


def wait_for_blank(ctx: JobContext, burner: str, timeout: float, poll: float = POLL) -> NextMedium:
    """``next_medium`` of a real drive: poll until a blank disc is in (False after
    ``timeout``); a cancel while waiting ends the job."""
    from mediatool.writers import burn

    def wait(n: int, copies: int, device: str) -> bool:
        ctx.log(_("Insert a blank disc in %(burner)s (copy %(n)d of %(copies)d)") % {
            "burner": burner, "n": n, "copies": copies})  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ctx.progress(0, None, "waiting for a blank disc")
            try:
                if burn.acquire(device).blank:
                    return True
            except burn.DeviceError:
                pass  # no disc yet
            time.sleep(poll)
        ctx.log(_("No blank disc was put in %(burner)s in time") % {"burner": burner}, "warning")
        return False

    return wait


def own_burner(burner: str, params: Mapping[str, Any]) -> tuple[str, int | None]:
    """The device and capacity of ``burner`` on the station running the job (its
    ``[[burners]]``, from :data:`~mediatool.station.jobs.runner.BURNERS_ENV`): stations may
    each have a burner of the same name on another device. A job queued by a version that did
    not pass them (or run outside a station) uses the ones it was queued with."""
    try:
        mine = json.loads(os.environ.get(BURNERS_ENV) or "{}").get(burner)
    except (ValueError, AttributeError):
        mine = None
    if isinstance(mine, dict) and isinstance(mine.get("device"), str):
        capacity = mine.get("capacity")
        return mine["device"], capacity if isinstance(capacity, int) else None
    return common.required(params, "device"), params.get("capacity")


def run_burn(params: Mapping[str, Any], ctx: JobContext) -> dict[str, Any]:
    """``{build_job, images: [ISO path per disc], burner, device, capacity, copies, verify,
    patients: [[id, name]], wait}`` → ``{burner, copies, verify, ok, discs: [BurnResult as
    data + file]}``. A disc not written or not read back equal fails the job with the
    library's message (what was done is kept with the job)."""
    from mediatool.writers.burn import BurnOptions

    burner = common.required(params, "burner")
    device, capacity = own_burner(burner, params)
    copies = int(params.get("copies") or 1)
    options = BurnOptions(copies=copies, verify=bool(params.get("verify", True)), capacity=capacity)
    files = images(params)
    wait = wait_for_blank(ctx, burner, float(params.get("wait") or WAIT))
    result: dict[str, Any] = {"burner": burner, "copies": copies, "verify": options.verify}
    discs: list[dict[str, Any]] = []
    for k, image in enumerate(files, 1):
        target = device_of(device, k, len(files))
        if k > 1 and not target.startswith("stdio:"):
            _change_disc(target, k, len(files), wait)
        done = _burn_one(image, target, options, ctx, wait)
        discs.append(done.as_dict() | {"file": image.name, "disc": k})
        if not done.ok:
            result |= {"ok": False, "discs": discs}
            raise JobFailed(_failure(done), _("Nothing was claimed: burn this disc again."), result)
    result |= {"ok": True, "discs": discs}
    outcome = f"{copies} {'copy' if copies == 1 else 'copies'} "
    outcome += "verified" if options.verify else "written"
    for patient_id, patient_name in params.get("patients") or []:
        ctx.audit("burn", str(patient_id), str(patient_name), outcome)
    return result


def _change_disc(device: str, k: int, discs: int, wait: NextMedium) -> None:
    from mediatool.writers import xorriso

    xorriso.eject(xorriso.address(device))
    if not wait(k, discs, device):
        raise JobFailed(f"no blank disc was put in {device!r} for disc {k} of {discs}")


def _burn_one(
    image: Path, device: str, options: BurnOptions, ctx: JobContext, wait: NextMedium
) -> BurnResult:
    from mediatool.writers.burn import burn

    progress = common.progress(ctx)
    with common.library_errors():
        done = burn(image, device, options, progress=progress, next_medium=wait)
    progress.check()
    return done


def _failure(done: BurnResult) -> str:
    """The library's message of the copy that failed."""
    bad = next((r for r in done.results if not r.ok), None)
    if bad is None:
        return f"only {len(done.results)} of {done.copies} copies were burned"
    return f"copy {bad.copy} of {bad.copies} ({bad.device}): {bad.error or 'not verified'}"
