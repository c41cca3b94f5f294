"""aid_alliance.kept: a bounded store, least recently used first; each value built once."""

from aid_alliance.kept import Kept, digest


def test_each_value_is_built_once_and_the_least_recently_used_goes_first():
    kept, built = Kept(2), []

    def build(name):
        def make():
            built.append(name)
            return name.upper()

        return make

    assert kept.get_or_build("a", build("a")) == "A"
    assert kept.get_or_build("b", build("b")) == "B"
    assert kept.get_or_build("a", build("a")) == "A"  # kept; now the most recent
    assert kept.get_or_build("c", build("c")) == "C"  # "b" goes
    assert len(kept) == 2
    assert kept.get_or_build("a", build("a")) == "A"
    assert kept.get_or_build("b", build("b")) == "B"  # built again
    assert built == ["a", "b", "c", "b"]
    kept.clear()
    assert len(kept) == 0


def test_the_digest_tells_inputs_apart():
    assert digest(("zh-hans", "/a", 1)) == digest(("zh-hans", "/a", 1))
    assert digest(("zh-hans", "/a", 1)) != digest(("en", "/a", 1))
    assert digest((1, "2")) != digest(("1", 2))
    assert len(digest(())) == 20
