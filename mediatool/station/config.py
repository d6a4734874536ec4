"""The station's configuration: one TOML file, checked like profiles and site files.

```toml
[station]
ae_title = "MEDIATOOL"        # our AE title (calling AE for the PACS and the worklist)
data = "/var/lib/mediatool"   # jobs, uploads, the job store (default: --data)
language = "pt-BR"            # pages, when the browser says nothing better: "en" or "pt-BR"
host = "127.0.0.1"
port = 8080
workers = 2                   # jobs running at the same time
name = "burn-room-1"          # this station among several (default: the computer's name)
database = "postgresql://mediatool:secret@db.example:5432/mediatool"  # shared job store
                              # (default: SQLite in the data folder, this station alone)
capabilities = ["burner:dvd", "location:reception-1"]  # the jobs' needs this station has
lease = 60                    # seconds a running job's claim lasts without renewal

[[nodes]]                     # PACS and worklist nodes (the admin page has a Test button each)
name = "PACS1"
role = "pacs"                 # "pacs" (query, retrieve, store) or "worklist"
address = "ORTHANC@10.0.0.5:4242"

[import]
commit = true                 # ask Storage Commitment: "safe to return the disc" needs it
listen_port = 11113           # where the PACS sends the commitment report (N-EVENT-REPORT)

[build]
profile = "STD-GEN-CD"
media = "cd"
web = true
site = "site.toml"            # site branding (see mediatool.web.site), relative to this file

[[drives]]                    # disc drives or mount points the reception desk offers
name = "CD drive"
path = "/media/cdrom"

[[burners]]                   # drives the burn jobs write on (mediatool.writers.burn); the
name = "dvd1"                 # station gets the capability "burner:dvd1" for each
device = "/dev/sr0"           # or "stdio:/srv/discs/disc_{n}.iso" (a pseudo-drive, {n}: copy)
media = ["cd", "dvd"]         # the media it takes
capacity = "cd"               # optional: bytes, or cd/cd74/dvd/bd, the most a disc may hold

[node]                        # the DICOM node (none without a port): C-ECHO, C-STORE into the
port = 11112                  # inbox, Media Creation Management (PS3.4 Annex S)
host = "0.0.0.0"              # where it listens (default: [station] host)
accept = ["PACS1", "CT01"]    # calling AE titles it accepts (default: the AE titles of [[nodes]];
                              # none configured: any)
reserve_mb = 1024             # refuse an instance that would leave less free disk than this
max_copies = 10               # the most copies one media creation request may ask

[tls]                         # needed to listen on another address than 127.0.0.1 quietly
certificate = "station.crt"
key = "station.key"

[limits]
upload_mb = 4096              # largest upload (ISO, zip)
```

Every section and key is optional; an unknown one is an error with a "did you mean", like the
site file (:mod:`mediatool.web.site`). Command-line options override the file (:func:`merge`).
"""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final

from mediatool import profiles
from mediatool.errors import MediatoolError
from mediatool.modalities import LANGUAGES

MEDIA: Final = ("cd", "cd74", "dvd", "dvd-ram", "bd", "bd-re", "usb")
SAVED: Final = "station.toml"  # the administration page's configuration, in the data folder
ROLES: Final = ("pacs", "worklist")
_SECTIONS: Final[dict[str, tuple[str, ...]]] = {
    "station": (
        "ae_title",
        "data",
        "language",
        "host",
        "port",
        "workers",
        "name",
        "database",
        "capabilities",
        "lease",
    ),
    "nodes": ("name", "role", "address"),
    "import": ("commit", "listen_port"),
    "build": ("profile", "media", "web", "site"),
    "drives": ("name", "path"),
    "burners": ("name", "device", "media", "capacity"),
    "node": ("port", "host", "accept", "reserve_mb", "max_copies"),
    "tls": ("certificate", "key"),
    "limits": ("upload_mb",),
}
_LISTS: Final = ("nodes", "drives")
BURNER: Final = "burner:"  # the capability a [[burners]] entry gives: "burner:<name>"
BURNER_MEDIA: Final = ("cd", "cd74", "dvd", "dvd-ram", "bd", "bd-re")


class ConfigError(MediatoolError):
    """The station's configuration file cannot be used (exit 2, with where and what)."""


@dataclass(frozen=True, slots=True)
class Node:
    name: str
    role: str
    address: str  # AE@host:port, checked by mediatool.net.association.parse_peer


@dataclass(frozen=True, slots=True)
class Drive:
    name: str
    path: str


@dataclass(frozen=True, slots=True)
class Burner:
    """A drive burn jobs write on: a device (``/dev/sr0``) or a pseudo-drive (``stdio:PATH``,
    ``{n}`` the copy number), the media it takes, and optionally the most a disc may hold."""

    name: str
    device: str
    media: tuple[str, ...]
    capacity: int | None = None

    @property
    def capability(self) -> str:
        return BURNER + self.name


@dataclass(frozen=True, slots=True)
class StationConfig:
    """The station's settings; :data:`DEFAULT` with no file."""

    ae_title: str = "MEDIATOOL"
    data: Path = Path("mediatool-data")
    language: str = "en"
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 2
    name: str = ""  # among several stations; "": the computer's name
    database: str = ""  # the job store's URL; "": SQLite in the data folder
    capabilities: tuple[str, ...] = ()
    lease: float = 60.0
    nodes: tuple[Node, ...] = ()
    commit: bool = True
    listen_port: int = 11113
    profile: str = "STD-GEN-CD"
    media: str = "cd"
    web: bool = True
    site: Path | None = None
    drives: tuple[Drive, ...] = ()
    burners: tuple[Burner, ...] = ()
    tls_certificate: Path | None = None
    tls_key: Path | None = None
    upload_mb: int = 4096
    dicom_port: int = 0  # the DICOM node's port; 0: no node
    dicom_host: str = ""  # where the node listens; "": the web application's host
    accept: tuple[str, ...] = ()  # calling AE titles the node accepts; (): see accepted_callers
    reserve_mb: int = 1024
    max_copies: int = 10
    path: Path | None = field(default=None, compare=False)  # the file it came from

    def node(self, name: str) -> Node | None:
        return next((n for n in self.nodes if n.name == name), None)

    def nodes_of(self, role: str) -> tuple[Node, ...]:
        return tuple(n for n in self.nodes if n.role == role)

    def burner(self, name: str) -> Burner | None:
        return next((b for b in self.burners if b.name == name), None)

    def burners_for(self, medium: str) -> tuple[Burner, ...]:
        """The burners that take ``medium`` (a 650 MB CD goes in any CD burner)."""
        wanted = "cd" if medium == "cd74" else medium
        return tuple(b for b in self.burners if medium in b.media or wanted in b.media)

    def all_capabilities(self) -> tuple[str, ...]:
        """The jobs' needs this station meets: ``[station] capabilities`` and ``burner:<name>``
        for each of its ``[[burners]]``."""
        extra = [b.capability for b in self.burners if b.capability not in self.capabilities]
        return self.capabilities + tuple(extra)

    @property
    def tls(self) -> bool:
        return self.tls_certificate is not None and self.tls_key is not None

    def accepted_callers(self) -> tuple[str, ...]:
        """The calling AE titles the node accepts: ``[node] accept``, else the AE titles of the
        configured nodes; () means any (no node configured: a station on its own)."""
        if self.accept:
            return self.accept
        return tuple(sorted({n.address.split("@", 1)[0] for n in self.nodes}))

    @property
    def database_url(self) -> str:
        return self.database or f"sqlite:///{(self.data / 'station.db').resolve()}"


DEFAULT: Final = StationConfig()


def _where(path: Path, section: str, index: int | None = None) -> str:
    at = f"[{section}]" if index is None else f"[[{section}]] number {index + 1}"
    return f"configuration {str(path)!r}, {at}"


def _unknown(key: str, known: tuple[str, ...] | list[str], where: str) -> ConfigError:
    close = difflib.get_close_matches(key, list(known), n=1)
    hint = f"did you mean `{close[0]}`?" if close else f"known: {', '.join(known)}"
    return ConfigError(f"{where}: unknown key `{key}`", hint=hint)


def _check_keys(table: Any, section: str, where: str) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: must be a table of keys")
    for key in table:
        if key not in _SECTIONS[section]:
            raise _unknown(key, _SECTIONS[section], where)
    return table


def _typed(table: dict[str, Any], key: str, kind: type, where: str) -> Any:
    value = table[key]
    if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise ConfigError(f"{where}: `{key}` must be a whole number, not {value!r}")
    if not isinstance(value, kind):
        raise ConfigError(f"{where}: `{key}` must be {kind.__name__}, not {value!r}")
    return value


def _choice(value: str, known: tuple[str, ...], what: str, where: str) -> str:
    if value in known:
        return value
    close = difflib.get_close_matches(value, list(known), n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"one of: {', '.join(known)}"
    raise ConfigError(f"{where}: {what} {value!r} is not known", hint=hint)


def _relative(base: Path, value: str) -> Path:
    p = Path(value).expanduser()
    return p if p.is_absolute() else base / p


def _station(t: dict[str, Any], base: Path, where: str) -> dict[str, Any]:
    from mediatool.net.association import PeerError, check_ae_title

    out: dict[str, Any] = {}
    if "ae_title" in t:
        try:
            out["ae_title"] = check_ae_title(_typed(t, "ae_title", str, where), "`ae_title`")
        except PeerError as exc:
            raise ConfigError(f"{where}: {exc}") from None
    if "data" in t:
        out["data"] = _relative(base, _typed(t, "data", str, where))
    if "language" in t:
        out["language"] = _choice(_typed(t, "language", str, where), LANGUAGES, "language", where)
    if "host" in t:
        out["host"] = _typed(t, "host", str, where)
    for key, low, high in (("port", 1, 65535), ("workers", 1, 16)):
        if key in t:
            value = _typed(t, key, int, where)
            if not low <= value <= high:
                raise ConfigError(f"{where}: `{key}` {value} is outside {low}-{high}")
            out[key] = value
    return out | _several(t, where)


def check_database(url: str, where: str) -> str:
    """A job store URL: PostgreSQL (or SQLite) or a clear error (the password never shown)."""
    scheme = url.split("://", 1)[0] if "://" in url else ""
    if scheme.split("+")[0] not in ("postgresql", "postgres", "sqlite"):
        raise ConfigError(
            f"{where}: the database must be a postgresql:// (or sqlite://) URL",
            hint="e.g. postgresql://mediatool:PASSWORD@db.example:5432/mediatool",
        )
    return url


def _several(t: dict[str, Any], where: str) -> dict[str, Any]:
    """The keys of several stations sharing one job store."""
    out: dict[str, Any] = {}
    if "name" in t:
        name = _typed(t, "name", str, where).strip()
        if not name or ":" in name:
            raise ConfigError(f"{where}: `name` must be a word without ':'", hint='"burn-1"')
        out["name"] = name
    if "database" in t:
        out["database"] = check_database(_typed(t, "database", str, where), where)
    if "capabilities" in t:
        items = _typed(t, "capabilities", list, where)
        if not all(isinstance(i, str) and i.strip() for i in items):
            raise ConfigError(
                f"{where}: `capabilities` must be a list of words",
                hint='e.g. capabilities = ["burner:dvd", "location:reception-1"]',
            )
        out["capabilities"] = tuple(i.strip() for i in items)
    if "lease" in t:
        lease = t["lease"]
        if isinstance(lease, bool) or not isinstance(lease, int | float) or not 1 <= lease <= 3600:
            raise ConfigError(f"{where}: `lease` must be seconds, 1-3600, not {lease!r}")
        out["lease"] = float(lease)
    return out


def _node(t: dict[str, Any], where: str) -> Node:
    from mediatool.net.association import PeerError, parse_peer

    for key in ("name", "role", "address"):
        if key not in t:
            raise ConfigError(f"{where}: `{key}` is missing", hint='e.g. name = "PACS1"')
    role = _choice(_typed(t, "role", str, where), ROLES, "role", where)
    address = _typed(t, "address", str, where)
    try:
        parse_peer(address)
    except PeerError as exc:
        raise ConfigError(f"{where}: `address` {exc}") from None
    return Node(_typed(t, "name", str, where).strip(), role, address)


def _build(t: dict[str, Any], base: Path, where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "profile" in t:
        known = tuple(p.id for p in profiles.list_profiles())
        out["profile"] = _choice(_typed(t, "profile", str, where), known, "profile", where)
    if "media" in t:
        out["media"] = _choice(_typed(t, "media", str, where), MEDIA, "media", where)
    if "web" in t:
        out["web"] = _typed(t, "web", bool, where)
    if "site" in t:
        site = _relative(base, _typed(t, "site", str, where))
        from mediatool.web.site import load_site

        load_site(site)  # a broken site file is said now, not at the first burn
        out["site"] = site
    return out


def _lists(data: dict[str, Any], path: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for section in _LISTS:
        items = data.get(section, [])
        if not isinstance(items, list):
            raise ConfigError(f"{_where(path, section)}: write it as [[{section}]] tables")
        parsed: list[Node | Drive] = []
        for i, item in enumerate(items):
            where = _where(path, section, i)
            item = _check_keys(item, section, where)
            if section == "nodes":
                parsed.append(_node(item, where))
            else:
                if "name" not in item or "path" not in item:
                    raise ConfigError(f"{where}: a drive needs `name` and `path`")
                parsed.append(
                    Drive(_typed(item, "name", str, where), _typed(item, "path", str, where))
                )
        names = [getattr(p, "name", "") for p in parsed]
        if len(set(names)) != len(names):
            raise ConfigError(f"{_where(path, section)}: two entries have the same name")
        out[section] = tuple(parsed)
    return out


def _burner(t: dict[str, Any], where: str) -> Burner:
    from mediatool.writers.iso import MEDIA_CAPACITY

    for key in ("name", "device", "media"):
        if key not in t:
            example = {"name": '"dvd1"', "device": '"/dev/sr0"', "media": '["cd", "dvd"]'}[key]
            raise ConfigError(f"{where}: `{key}` is missing", hint=f"e.g. {key} = {example}")
    name = _typed(t, "name", str, where).strip()
    if not name or ":" in name:
        raise ConfigError(f"{where}: `name` must be a word without ':'", hint='"dvd1"')
    device = _typed(t, "device", str, where).strip()
    if not device:
        raise ConfigError(f"{where}: `device` is empty", hint='e.g. device = "/dev/sr0"')
    media = _typed(t, "media", list, where)
    if not media or not all(isinstance(m, str) for m in media):
        raise ConfigError(f"{where}: `media` must be a list of media", hint='["cd", "dvd"]')
    chosen = tuple(_choice(m, BURNER_MEDIA, "medium", where) for m in media)
    capacity = t.get("capacity")
    if isinstance(capacity, str) and MEDIA_CAPACITY.get(capacity) is not None:
        capacity = MEDIA_CAPACITY[capacity]
    if capacity is not None and (
        isinstance(capacity, bool) or not isinstance(capacity, int) or capacity <= 0
    ):
        raise ConfigError(
            f"{where}: `capacity` must be bytes > 0 or one of {', '.join(BURNER_MEDIA)}, "
            f"not {capacity!r}"
        )
    return Burner(name, device, chosen, capacity)


def _burners(data: dict[str, Any], path: Path) -> dict[str, Any]:
    items = data.get("burners", [])
    if not isinstance(items, list):
        raise ConfigError(f"{_where(path, 'burners')}: write it as [[burners]] tables")
    parsed = []
    for i, item in enumerate(items):
        where = _where(path, "burners", i)
        parsed.append(_burner(_check_keys(item, "burners", where), where))
    if len({b.name for b in parsed}) != len(parsed):
        raise ConfigError(f"{_where(path, 'burners')}: two entries have the same name")
    return {"burners": tuple(parsed)}


def _dicom_node(t: dict[str, Any], where: str) -> dict[str, Any]:
    from mediatool.net.association import PeerError, check_ae_title

    out: dict[str, Any] = {}
    for key, name, low, high in (
        ("port", "dicom_port", 1, 65535), ("reserve_mb", "reserve_mb", 0, 10**7),
        ("max_copies", "max_copies", 1, 1000),
    ):  # fmt: skip
        if key in t:
            value = _typed(t, key, int, where)
            if not low <= value <= high:
                raise ConfigError(f"{where}: `{key}` {value} is outside {low}-{high}")
            out[name] = value
    if "host" in t:
        out["dicom_host"] = _typed(t, "host", str, where)
    if "accept" in t:
        items = _typed(t, "accept", list, where)
        try:
            out["accept"] = tuple(check_ae_title(str(i), "`accept`") for i in items)
        except PeerError as exc:
            raise ConfigError(f"{where}: {exc}", hint='e.g. accept = ["PACS1", "CT01"]') from None
    return out


def _small(data: dict[str, Any], base: Path, path: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "import" in data:
        where = _where(path, "import")
        t = _check_keys(data["import"], "import", where)
        if "commit" in t:
            out["commit"] = _typed(t, "commit", bool, where)
        if "listen_port" in t:
            out["listen_port"] = _typed(t, "listen_port", int, where)
    if "node" in data:
        where = _where(path, "node")
        out |= _dicom_node(_check_keys(data["node"], "node", where), where)
    if "tls" in data:
        where = _where(path, "tls")
        t = _check_keys(data["tls"], "tls", where)
        if set(t) != {"certificate", "key"}:
            raise ConfigError(f"{where}: give both `certificate` and `key`")
        out["tls_certificate"] = _relative(base, _typed(t, "certificate", str, where))
        out["tls_key"] = _relative(base, _typed(t, "key", str, where))
    if "limits" in data:
        where = _where(path, "limits")
        t = _check_keys(data["limits"], "limits", where)
        if "upload_mb" in t:
            out["upload_mb"] = _typed(t, "upload_mb", int, where)
    return out


def parse(data: dict[str, Any], path: Path) -> StationConfig:
    """Check the parsed TOML (``path`` names it in messages and anchors relative paths)."""
    base = path.parent
    for key in data:
        if key not in _SECTIONS:
            raise _unknown(key, list(_SECTIONS), f"configuration {str(path)!r}")
    values: dict[str, Any] = {}
    if "station" in data:
        where = _where(path, "station")
        values |= _station(_check_keys(data["station"], "station", where), base, where)
    if "build" in data:
        where = _where(path, "build")
        values |= _build(_check_keys(data["build"], "build", where), base, where)
    values |= _lists(data, path) | _burners(data, path) | _small(data, base, path)
    values.setdefault("data", DEFAULT.data.resolve())  # the folder it is started in
    return replace(DEFAULT, path=path, **values)


def load(path: Path) -> StationConfig:
    """Read and check the configuration file; :class:`ConfigError` says what and where."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the configuration {str(path)!r}: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"configuration {str(path)!r} is not valid TOML: {exc}") from None
    return parse(data, path)


def merge(config: StationConfig, **given: Any) -> StationConfig:
    """Command-line values (those not None) override the file's."""
    return replace(config, **{k: v for k, v in given.items() if v is not None})


def to_toml(config: StationConfig) -> str:
    """The configuration as a TOML file (the admin page saves it): parse(to_toml(c)) == c."""
    import tomlkit

    doc = tomlkit.document()
    doc["station"] = {
        "ae_title": config.ae_title, "data": str(config.data.resolve()),
        "language": config.language, "host": config.host, "port": config.port,
        "workers": config.workers, "capabilities": list(config.capabilities),
        "lease": config.lease,
    }  # fmt: skip
    if config.name:
        doc["station"]["name"] = config.name
    if config.database:
        doc["station"]["database"] = config.database
    nodes = tomlkit.aot()
    for n in config.nodes:
        nodes.append(tomlkit.item({"name": n.name, "role": n.role, "address": n.address}))
    doc["nodes"] = nodes
    doc["import"] = {"commit": config.commit, "listen_port": config.listen_port}
    build: dict[str, Any] = {"profile": config.profile, "media": config.media, "web": config.web}
    if config.site is not None:
        build["site"] = str(config.site)
    doc["build"] = build
    drives = tomlkit.aot()
    for d in config.drives:
        drives.append(tomlkit.item({"name": d.name, "path": d.path}))
    doc["drives"] = drives
    burners = tomlkit.aot()
    for b in config.burners:
        table: dict[str, Any] = {"name": b.name, "device": b.device, "media": list(b.media)}
        if b.capacity is not None:
            table["capacity"] = b.capacity
        burners.append(tomlkit.item(table))
    doc["burners"] = burners
    if config.dicom_port:
        doc["node"] = {
            "port": config.dicom_port,
            "accept": list(config.accept), "reserve_mb": config.reserve_mb,
            "max_copies": config.max_copies,
        }  # fmt: skip
        if config.dicom_host:
            doc["node"]["host"] = config.dicom_host
    if config.tls:
        doc["tls"] = {"certificate": str(config.tls_certificate), "key": str(config.tls_key)}
    doc["limits"] = {"upload_mb": config.upload_mb}
    return tomlkit.dumps(doc)
