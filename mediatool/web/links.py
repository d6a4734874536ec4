"""Links that work wherever the disc is read (issue 11; IHE RAD TF-3 4.47, pdi.md 2.3).

The names on the disc are ISO 9660 Level 1 names, upper case (``IHE_PDI/P0001/INDEX.HTM``), and
readers show them in different cases:

- Linux mounts a Level 1 image with ``map=normal`` by default: every name in lower case.
- Windows and macOS show them in upper case, and their file systems are case-insensitive.
- A FAT USB stick is case-insensitive on all three (Linux's vfat too).
- A folder copy keeps the case it was copied with: upper case from our ``--out`` folder or a
  copy made on Windows, lower case from a Linux-mounted disc. On a case-sensitive disk (ext4,
  case-sensitive APFS) only links in the same case as the names work.

Choice: every relative link in the pages and the viewer is written in **lower case** (what
German radiology's disc certification asks for). That works without any script on the disc in
Linux, Windows and macOS, on FAT, and in every copy on a case-insensitive disk or made from a
Linux-mounted disc. The one case left, upper-case names on a case-sensitive disk, is handled by
:data:`CASE_SCRIPT`, a few inline lines in the head of every page: when the page's own file name
is in upper case, the copy has upper-case names, so the links are put in upper case as they are
parsed, before they are used. Upper-case links would instead break the most common case, a disc
read on Linux, unless a script ran.
"""

from __future__ import annotations

import re
from typing import Final

#: A relative link in our generated markup (attributes are always double-quoted and escaped).
_ATTRIBUTE: Final = re.compile(r'\b(href|src)="([^"]*)"')
_ABSOLUTE: Final = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*:|/|#)")


def lower_path(link: str) -> str:
    """``../IHE_PDI/P0001/INDEX.HTM#P0001/S0001`` → ``../ihe_pdi/p0001/index.htm#P0001/S0001``:
    the path in lower case, a fragment unchanged; absolute URLs and ``data:`` unchanged."""
    if _ABSOLUTE.match(link):
        return link
    path, hash_, fragment = link.partition("#")
    return path.lower() + hash_ + fragment


def lower_links(markup: str) -> str:
    """Every relative ``href``/``src`` of a generated page in lower case (see the module)."""
    return _ATTRIBUTE.sub(lambda m: f'{m.group(1)}="{lower_path(m.group(2))}"', markup)


#: Inline in the ``head`` of every page (XML-safe: no ``<`` or ``&``). When this page's own name
#: is upper case, the names of this copy are, so every link is put in upper case as the parser
#: adds it: a MutationObserver runs before the next rendering step, and the images load lazily,
#: so no image is fetched under the lower-case name first. ``window.mediatoolName`` maps a
#: lower-case relative path to this copy's case (the viewer builds its image paths with it).
CASE_SCRIPT: Final = """(function () {
  "use strict";
  var own = decodeURIComponent(location.pathname.split("/").pop() || "");
  var upper = own !== own.toLowerCase();
  function name(path) {
    if (/^([a-z][a-z0-9+.-]*:|[\\/#])/i.test(path)) { return path; }
    var cut = path.indexOf("#");
    var head = cut === -1 ? path : path.slice(0, cut);
    head = upper ? head.toUpperCase() : head.toLowerCase();
    return cut === -1 ? head : head + path.slice(cut);
  }
  function fix(root) {
    if (!root.querySelectorAll) { return; }
    var nodes = [root].concat([].slice.call(root.querySelectorAll("[href], [src]")));
    nodes.forEach(function (node) {
      ["href", "src"].forEach(function (attr) {
        var value = node.getAttribute ? node.getAttribute(attr) : null;
        if (value !== null) {
          var named = name(value);
          if (named !== value) { node.setAttribute(attr, named); }
        }
      });
    });
  }
  window.mediatoolName = name;
  if (!upper) { return; }
  var watch = new MutationObserver(function (records) {
    records.forEach(function (record) {
      [].forEach.call(record.addedNodes, fix);
    });
  });
  watch.observe(document.documentElement, { childList: true, subtree: true });
  document.addEventListener("DOMContentLoaded", function () {
    watch.disconnect();
    fix(document.documentElement);
  });
}());"""
