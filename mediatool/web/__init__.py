"""IHE PDI web content, the zero-install browser viewer, site branding and the disc label.

Generated from a materialised File-set folder (its DICOMDIR and the files it references), so
it works for any existing File-set; a build hands over its own tree instead (``tree_of``, then
``shown=`` and ``tree=``), so it never reads its DICOMDIR back::

    from mediatool.web import load_site, make_label, write_web_content

    findings = write_web_content(staging, site=load_site(path), viewer_dir=None, disc=(1, 1))
    png = make_label(staging, site=site, disc=(1, 1), created="20240312")
"""

from mediatool.web.content import tree_of, write_web_content
from mediatool.web.label import make_label
from mediatool.web.site import DEFAULT_SITE, Site, SiteError, load_site
from mediatool.web.viewer import check_third_party as check_viewer_dir

__all__ = [
    "DEFAULT_SITE",
    "Site",
    "SiteError",
    "check_viewer_dir",
    "load_site",
    "make_label",
    "tree_of",
    "write_web_content",
]
