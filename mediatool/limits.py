"""Every size and count limit mediatool applies to foreign input, in one place, with its reason.

Foreign media are hostile input (design.md convention 12): a DICOMDIR, an ISO image or a zip
archive may claim any size or count. A value beyond one of these limits is reported as a finding
that names the limit; the work it would have caused is not done. Keep each limit here, never as a
literal at the place that checks it, and give the reason beside it.
"""

from __future__ import annotations

from typing import Final

# --- zip archives (build inputs, validate and import media) ----------------------------------

#: A zip member larger than this when inflated is not read: no DICOM instance on a patient disc
#: comes near 4 GiB, and inflating it would fill the spool folder.
ZIP_MEMBER_LIMIT: Final = 4 * 1024**3
#: A member inflating more than this ratio (and above ZIP_RATIO_FLOOR) is not read (zip bomb).
ZIP_RATIO_LIMIT: Final = 200
#: The ratio limit only applies above this size: a blank 512x512 image deflates about 1000:1, and
#: small members cannot exhaust memory or disk whatever their ratio.
ZIP_RATIO_FLOOR: Final = 32 * 1024**2
#: Members up to this size are read into memory, larger ones into an anonymous temporary file.
ZIP_SPOOL_LIMIT: Final = 64 * 1024**2
