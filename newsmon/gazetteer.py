"""China's administrative divisions (province / city / county with adcode and coordinates).

The data is cpca's shipped `adcodes.csv` (3,500+ divisions, a maintained package's gazetteer), read
once. This module answers look-ups by name or code — what the CLI needs to validate `--region`
options and what filters need to match a province with its cities and counties. Finding regions in
running text is `consumers.analysis.regions`' job.
"""

from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

Level = Literal["province", "city", "county"]
MUNICIPALITIES = {"11", "12", "31", "50"}
# Rows that are grouping placeholders, not administrations.
_PLACEHOLDERS = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}
# Longest first, so 自治州 is stripped before 州.
_SUFFIXES = sorted(
    ["省", "市", "自治区", "壮族自治区", "回族自治区", "维吾尔自治区", "特别行政区", "地区", "盟", "自治州",
     "区", "县", "自治县", "旗", "自治旗", "林区", "特区"],
    key=len, reverse=True,
)
_ETHNIC = re.compile(r"(.{2,}?)(?:[\u4e00-\u9fff]{1,6}族)+(自治州|自治县|自治旗)$")


class UnknownRegion(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Division:
    adcode: str            # 6 digits
    name: str
    level: Level
    province: str
    city: str | None
    county: str | None
    lat: float | None
    lon: float | None

    def as_region(self) -> dict:
        """The DESIGN.md region shape."""
        return {"province": self.province, "city": self.city, "county": self.county, "adcode": self.adcode,
                "lat": self.lat, "lon": self.lon}

    @property
    def full_name(self) -> str:
        return "".join(p for p in (self.province, self.city, self.county) if p)

    @property
    def code_prefix(self) -> str:
        """Prefix shared by this division and everything inside it (for 'a province matches its counties')."""
        if self.level == "province":
            return self.adcode[:2]
        if self.level == "city":
            return self.adcode[:4]
        return self.adcode


def short_name(name: str) -> str:
    """铁岭市 -> 铁岭, 广西壮族自治区 -> 广西, 延边朝鲜族自治州 -> 延边; keeps names of two characters."""
    m = _ETHNIC.match(name)
    if m:
        return m.group(1)
    for suf in _SUFFIXES:
        if name.endswith(suf) and len(name) - len(suf) >= 2:
            return name[: -len(suf)]
    return name


def _csv_path() -> str:
    import cpca  # the package that ships the gazetteer

    return os.path.join(os.path.dirname(cpca.__file__), "resources", "adcodes.csv")


@lru_cache(maxsize=1)
def divisions() -> dict[str, Division]:
    rows: dict[str, tuple[str, float | None, float | None]] = {}
    with open(_csv_path(), encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            code = row["adcode"][:6]
            lon = float(row["longitude"]) if row["longitude"] else None
            lat = float(row["latitude"]) if row["latitude"] else None
            rows[code] = (row["name"], lat, lon)
    out: dict[str, Division] = {}
    for code, (name, lat, lon) in rows.items():
        if name in _PLACEHOLDERS:
            continue
        prov = rows.get(code[:2] + "0000", (None,))[0]
        if prov is None:
            continue
        if code.endswith("0000"):
            out[code] = Division(code, name, "province", name, None, None, lat, lon)
        elif code.endswith("00") and code[:2] not in MUNICIPALITIES:
            out[code] = Division(code, name, "city", prov, name, None, lat, lon)
        else:
            city_name = rows.get(code[:4] + "00", (None,))[0]
            city = None if city_name in _PLACEHOLDERS or code[:2] in MUNICIPALITIES else city_name
            out[code] = Division(code, name, "county", prov, city, name, lat, lon)
    return out


@lru_cache(maxsize=1)
def _by_name() -> dict[str, list[Division]]:
    index: dict[str, list[Division]] = {}
    for d in divisions().values():
        keys = {d.name, short_name(d.name), d.full_name}
        if d.city:
            keys.add(d.city + d.name)
            keys.add(short_name(d.city) + d.name)
        if d.level != "province":
            keys.add(d.province + d.name)
            keys.add(short_name(d.province) + d.name)
        for k in keys:
            index.setdefault(k, []).append(d)
    return index


def lookup(adcode: str) -> Division | None:
    return divisions().get(adcode[:6]) if adcode[:6].isdigit() else None


def resolve_region(query: str) -> Division:
    """'辽宁省', '铁岭', '铁岭市', '辽宁省铁岭市', '211200' or '211200000000' -> the one division meant.
    Raises UnknownRegion with a one-line message when nothing or more than one division fits."""
    q = re.sub(r"\s+", "", query or "")
    if not q:
        raise UnknownRegion("empty region")
    if q.isdigit():
        d = lookup(q) if len(q) in (6, 12) else None
        if d is None:
            raise UnknownRegion(f"unknown region code {query!r} (expected a 6-digit adcode such as 211200)")
        return d
    found = _by_name().get(q, [])
    if not found:
        raise UnknownRegion(f"unknown region {query!r} (use an official name such as 辽宁省, 铁岭市 or an adcode)")
    if len(found) > 1:
        exact = [d for d in found if d.name == q or d.full_name == q]
        if len(exact) == 1:
            return exact[0]
        # 铁岭 = 铁岭市 rather than 铁岭县 inside it; 吉林 = 吉林省 rather than 吉林市 inside it:
        # when one candidate contains all the others, the short name means the enclosing one.
        rank = {"province": 0, "city": 1, "county": 2}
        top = min(found, key=lambda d: rank[d.level])
        if all(d is top or d.adcode.startswith(top.code_prefix) for d in found):
            return top
        options = ", ".join(f"{d.full_name} ({d.adcode})" for d in found[:6])
        raise UnknownRegion(f"ambiguous region {query!r}: {options}; give the province or the adcode")
    return found[0]
