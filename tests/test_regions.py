"""organizations.regions: the children index gives what a scan of the whole table gave."""

from organizations import regions


def _children_by_scan(parent: str) -> list[regions.Region]:
    """The look-up as it was before the index (issue 18), kept as the reference."""
    table = regions.all_regions().values()
    if len(parent) == 2:
        found = []
        for r in table:
            if not (r.current and r.code.startswith(parent) and r.level == "prefecture"):
                continue
            if r.name in regions._PLACEHOLDER_PREFECTURES:
                found.extend(_children_by_scan(r.code[:4]))
            else:
                found.append(r)
        return found
    if len(parent) == 4:
        return [
            r
            for r in table
            if r.current
            and r.code.startswith(parent)
            and r.level == "county"
            and r.name != "市辖区"
        ]
    return []


def test_children_of_every_province_and_prefecture_match_a_full_scan():
    prefixes = {code[:2] for code in regions.all_regions()} | {
        code[:4] for code in regions.all_regions()
    }
    for parent in sorted(prefixes) + ["", "1", "110101", "99", "9999"]:
        assert regions.children(parent) == _children_by_scan(parent), parent


def test_a_municipality_lists_its_districts_in_place_of_the_placeholder_rows():
    names = [r.name for r in regions.children("11")]
    assert "东城区" in names
    assert "市辖区" not in names


def test_changing_the_returned_list_leaves_the_index_alone():
    first = regions.children("53")
    first.clear()
    assert regions.children("53")
