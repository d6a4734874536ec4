"""Every size and count limit mediatool applies to foreign input, in one place, with its reason.

Foreign media are hostile input (design.md convention 12): a DICOMDIR, an ISO image or a zip
archive may claim any size or count. A value beyond one of these limits is reported as a finding
that names the limit; the work it would have caused is not done. Keep each limit here, never as a
literal at the place that checks it, and give the reason beside it.
"""

from __future__ import annotations

from typing import Final

# --- zip archives (build inputs, validate and import media: all read by mediatool/media/zip.py) -

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

# --- DICOMDIR (validate and import --list read it with mediatool/validate/dicomdir_reader) ----
# Issue 12: a 90 MB DICOMDIR of 10^6 chained records took 2.2 GB and over 60 s, 500 MB of zeros
# six minutes. Reading is linear in the bytes read; these limits bound the bytes and the objects.

#: A DICOMDIR larger than this is not read. A record without an icon takes 100-400 bytes, so this
#: holds several hundred thousand records, more than any disc or stick carries (a full DVD of
#: CT slices is about 10,000 instances); the bytes are held in memory while they are parsed.
DICOMDIR_SIZE_LIMIT: Final = 96 * 1024**2
#: Directory records read at most: each costs about 3 KB of memory through the checks (100,000
#: chained records: 7.7 s and 317 MB for validate), so this keeps validate under 500 MB. A full
#: DVD of CT slices has about 10,000 instance records; beyond the limit, the DICOMDIR is
#: reported and not judged further.
DICOMDIR_RECORD_LIMIT: Final = 100_000
#: Data elements read at most over the whole DICOMDIR (records hold 10-30 keys each).
DICOMDIR_ELEMENT_LIMIT: Final = 4_000_000
#: One element value longer than this is not read: the largest legitimate value of a record is
#: an icon (128 x 128 x 3 bytes, PS3.3 F.7), well below it.
DICOMDIR_VALUE_LIMIT: Final = 4 * 1024**2
#: Findings of one kind listed per DICOMDIR; further ones are counted in one last finding
#: ("a failure repeated many times is one line with a count").
FINDINGS_PER_CODE: Final = 20

# --- DICOM data sets (build inputs, validate and import media) ---------------------------------

#: A data element other than Pixel Data longer than this is not read, and its instance is
#: reported instead of used. The longest values found in practice outside Pixel Data are
#: encapsulated documents (PDF, CDA, STL) and waveforms of a few tens of MB; a longer one is
#: damaged or hostile, and importing it would hold it in memory about three times (read,
#: coerce, encode), so 128 MiB keeps an import under 500 MB. Pixel Data is exempt: a
#: multi-frame image is legitimately large and is never read with the header.
ELEMENT_LENGTH_LIMIT: Final = 128 * 1024**2

# --- ISO 9660 images (validate and import media) ------------------------------------------------

#: A directory's raw records are read up to this size to check every file's extent against the
#: image (pycdlib shortens a lying Data Length silently). A directory of 16 MiB holds about 400,000
#: records, far beyond any disc; the records past it are checked by pycdlib's values only.
ISO_DIRECTORY_LIMIT: Final = 16 * 1024**2
