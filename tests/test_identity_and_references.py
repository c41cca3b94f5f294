"""Resident identity numbers (GB 11643-1999) and phone-friendly case references."""

import random
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from cases.identity import (
    FEMALE,
    MALE,
    ResidentId,
    check_matches,
    mask_id_number,
    normalize_resident_id,
    parse_resident_id,
)
from cases.references import (
    ALPHABET,
    check_character,
    is_valid_reference,
    new_reference,
    normalize_reference,
)

TODAY = date(2026, 6, 1)


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def _refusal(text: str, today: date = TODAY) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        parse_resident_id(text, today=today)
    assert len(caught.value.messages) == 1
    return caught.value


# --- Resident identity numbers -------------------------------------------------------------


def test_the_standards_own_example_is_a_woman_born_on_31_december_1949():
    assert parse_resident_id("11010519491231002X", today=TODAY) == ResidentId(
        number="11010519491231002X",
        region_code="110105",
        birth_date=date(1949, 12, 31),
        sex=FEMALE,
    )


@pytest.mark.parametrize(
    ("number", "birth_date", "sex"),
    [
        ("110103198506150011", date(1985, 6, 15), MALE),
        ("11010319850615002X", date(1985, 6, 15), FEMALE),
        ("320102200001010032", date(2000, 1, 1), MALE),
        ("110101200002290018", date(2000, 2, 29), MALE),  # leap day
        ("110101190001010014", date(1900, 1, 1), MALE),  # earliest accepted year
    ],
)
def test_computed_numbers_are_valid(number, birth_date, sex):
    resident = parse_resident_id(number, today=TODAY)
    assert (resident.birth_date, resident.sex, resident.region_code) == (
        birth_date,
        sex,
        number[:6],
    )


def test_an_abolished_region_code_is_still_valid():
    # 110103 was Beijing's Chongwen district, merged into Dongcheng in 2010.
    assert parse_resident_id("110103198506150011", today=TODAY).region_code == "110103"


def test_lowercase_x_spaces_and_full_width_characters_are_normalised():
    assert normalize_resident_id(" 110105 19491231 002x ") == "11010519491231002X"
    full_width = "１１０１０５１９４９１２３１００２ｘ"
    assert normalize_resident_id(full_width) == "11010519491231002X"
    assert parse_resident_id("110105\u300019491231\u3000002ｘ", today=TODAY).number == (
        "11010519491231002X"
    )


@pytest.mark.parametrize(
    "text",
    ["", "11010519491231002", "11010519491231002X0", "1101051949123100XX", "11010519491231002Y"],
)
def test_wrong_length_or_characters_are_refused(text):
    error = _refusal(text)
    assert error.code == "id_format"
    assert "17 digits and a final digit or X" in error.messages[0]


def test_old_15_digit_numbers_are_refused():
    assert _refusal("110105491231002").code == "id_format"


def test_a_wrong_check_character_is_reported_as_a_typo():
    error = _refusal("110105194912310021")
    assert error.code == "id_checksum"
    assert "typo" in error.messages[0]


def test_every_single_digit_typo_is_caught():
    number = "11010519491231002X"
    for position in range(17):
        for digit in "0123456789":
            if digit == number[position]:
                continue
            typo = number[:position] + digit + number[position + 1 :]
            with pytest.raises(ValidationError):
                parse_resident_id(typo, today=TODAY)


def test_30_february_does_not_exist():
    error = _refusal("510104199902300013")  # check character correct; the date is not
    assert error.code == "id_birth_date_invalid"
    assert "19990230" in error.messages[0]


def test_a_birth_date_in_the_future_is_refused():
    error = _refusal("440305203001010017")
    assert error.code == "id_birth_date_future"
    assert parse_resident_id("440305203001010017", today=date(2030, 1, 1)).birth_date == (
        date(2030, 1, 1)
    )


def test_a_birth_date_before_1900_is_refused():
    error = _refusal("440524188001010014")  # check character correct; born 1880
    assert error.code == "id_birth_date_too_early"


def test_today_defaults_to_the_local_date():
    assert parse_resident_id("11010519491231002X").sex == FEMALE
    assert _refusal("440305203001010017", today=None).code == "id_birth_date_future"


def test_check_matches_agrees_or_ignores_missing_values():
    resident = parse_resident_id("11010519491231002X", today=TODAY)
    assert check_matches(resident, sex=FEMALE, birth_date=date(1949, 12, 31)) == {}
    assert check_matches(resident, sex=None, birth_date=None) == {}
    assert check_matches(resident, sex="", birth_date=None) == {}


def test_check_matches_reports_wrong_sex_and_date_of_birth():
    woman = parse_resident_id("11010519491231002X", today=TODAY)
    errors = check_matches(woman, sex=MALE, birth_date=date(1949, 12, 13))
    assert set(errors) == {"sex", "birth_date"}
    assert "for a female" in errors["sex"]
    assert "1949-12-31" in errors["birth_date"]
    man = parse_resident_id("110103198506150011", today=TODAY)
    assert "for a male" in check_matches(man, sex=FEMALE, birth_date=None)["sex"]
    assert all(isinstance(message, str) for message in errors.values())


def test_check_matches_refuses_unknown_sex_values():
    resident = parse_resident_id("11010519491231002X", today=TODAY)
    with pytest.raises(ValueError):
        check_matches(resident, sex="F", birth_date=None)


def test_masking():
    assert mask_id_number("11010519491231002X") == "110105********002X"
    assert mask_id_number("110105 19491231 002x") == "110105********002X"
    assert mask_id_number("E12345678") == "*****5678"  # e.g. a passport
    assert mask_id_number("1234567") == "*******"  # too short to show anything
    assert mask_id_number("") == ""


# --- Case references ------------------------------------------------------------------------


def _payload(reference: str) -> str:
    return reference[3:7] + reference[8:]


def _reference(payload: str) -> str:
    return f"DB-{payload[:4]}-{payload[4:]}"


@pytest.fixture
def references():
    rng = random.Random(20260601)
    return [new_reference(rng.choice([2026, 2030, 2100])) for _ in range(12)]


def test_new_references_have_the_documented_shape():
    reference = new_reference(2026)
    assert len(reference) == len("DB-2026-7K3M9Q")
    assert reference.startswith("DB-2026-")
    assert set(reference[8:]) <= set(ALPHABET)
    assert is_valid_reference(reference)


def test_two_thousand_references_are_valid_and_nearly_all_distinct():
    # 5 random characters give 32**5 (33.5 million) references a year, so among 2,000 draws
    # two equal ones happen about once in 17 runs (the birthday bound): the service draws
    # again then (tested in test_intake.py). Ten equal pairs would mean the draw is not random.
    issued = [new_reference(2026) for _ in range(2000)]
    assert len(set(issued)) >= len(issued) - 10
    assert all(is_valid_reference(reference) for reference in issued)


def test_new_reference_needs_a_four_digit_year():
    with pytest.raises(ValueError):
        new_reference(999)
    with pytest.raises(ValueError):
        new_reference(10000)


def test_normalisation():
    reference = "DB-2026-" + "7K3M9" + check_character("20267K3M9")
    compact = reference.replace("-", "").lower()
    assert normalize_reference(compact) == reference
    assert normalize_reference(" db 2026 7k3m 9" + reference[-1].lower()) == reference
    assert normalize_reference("ＤＢ－２０２６－７Ｋ３Ｍ９" + reference[-1]) == reference
    assert normalize_reference("DB–2026–7K3M9" + reference[-1]) == reference  # en dashes
    assert normalize_reference("db-2026-ok1li0") == "DB-2026-0K1110"
    assert is_valid_reference(compact)


@pytest.mark.parametrize(
    "text",
    ["", "DB-2026", "DB-2026-7K3M9", "DB-2026-7K3M9QQ", "XX-2026-7K3M9Q", "DB-26-7K3M9Q",
     "DB-2026-7K3M9U", "DB-2026-7K3M9*", "2026-7K3M9Q"],
)  # fmt: skip
def test_what_cannot_be_shaped_normalises_to_nothing(text):
    assert normalize_reference(text) == ""
    assert not is_valid_reference(text)


def test_every_single_character_error_is_caught(references):
    for reference in references:
        payload = _payload(reference)
        for position in range(len(payload)):
            for character in ALPHABET:
                if character != payload[position]:
                    wrong = payload[:position] + character + payload[position + 1 :]
                    assert not is_valid_reference(_reference(wrong)), (reference, wrong)


def test_every_adjacent_swap_is_caught(references):
    for reference in references:
        payload = _payload(reference)
        for position in range(len(payload) - 1):
            first, second = payload[position], payload[position + 1]
            if first != second:
                swapped = payload[:position] + second + first + payload[position + 2 :]
                assert not is_valid_reference(_reference(swapped)), (reference, swapped)


def test_every_adjacent_swap_is_caught_in_any_payload_without_0_next_to_z():
    rng = random.Random(7)
    for _ in range(200):
        body = "".join(rng.choice(ALPHABET) for _ in range(5))
        payload = f"{rng.randint(2000, 2099)}{body}"
        payload += check_character(payload)
        if "0Z" in payload or "Z0" in payload:
            continue
        for position in range(len(payload) - 1):
            first, second = payload[position], payload[position + 1]
            if first != second:
                swapped = payload[:position] + second + first + payload[position + 2 :]
                assert not is_valid_reference(_reference(swapped))


def test_luhn_mod_n_misses_only_a_swap_of_0_and_z_which_is_never_issued():
    # The one blind spot of Luhn mod N: values 0 and N-1 swapped keep the same sum.
    payload = "2030" + "0Z123"
    payload += check_character(payload)
    swapped = payload.replace("0Z", "Z0")
    assert is_valid_reference(_reference(payload)) and is_valid_reference(_reference(swapped))
    # ...so new_reference never puts "0" and "Z" side by side (year 2030 ends with a 0).
    for _ in range(2000):
        issued = _payload(new_reference(2030))
        assert "0Z" not in issued and "Z0" not in issued


def test_a_reference_copied_into_another_year_fails():
    # Guaranteed when the wrong year differs in one digit (a single-character error).
    for _ in range(20):
        reference = new_reference(2026)
        for other in ("2025", "2027", "2016", "2036", "2126", "1026"):
            assert not is_valid_reference(reference.replace("2026", other, 1))
