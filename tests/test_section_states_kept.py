"""The read-only page's section states remembered per process (issue 18): the same answers
as validating each section afresh, and a change through the services, of the category's
ICD codes, of the hospital directory or of the day shows at the very next request."""

import datetime

import pytest
from django.utils import timezone

from cases.fields import as_querydict
from cases.intake import selectors, services
from cases.intake.forms import SECTION_FORMS
from cases.intake.section_base import SectionForm
from cases.models import Application, Child
from organizations.models import Hospital
from tests.test_intake_errors import draft_with

pytestmark = pytest.mark.django_db


def loaded(application):
    """The application as the page loads it (access.get_application_for's relations)."""
    return Application.objects.select_related("child", "category").get(pk=application.pk)


def fresh(application):
    return {key: services.section_complete(application, key) for key in SECTION_FORMS}


def page_state(client, application, key):
    response = client.get(f"/applications/{application.reference}/")
    assert response.status_code == 200
    return response.context["section_states"][key].state


@pytest.mark.parametrize(
    ("blank", "extra", "answers"),
    [
        ((), None, {True}),
        (("g2_phone", "plan_chemotherapy", "name", "bank_name"), None, {True, False}),
        (("g2_name", "g2_relationship", "g2_id_number", "g2_phone"), None, {True}),
        ((), {"D": {"icd": "Z99"}, "B": {"primary": "2", "g2_name": ""}}, {True, False}),
        (("household_province", "consent_date"), {"C": {"household_size": "0"}}, {True, False}),
    ],
)
def test_the_kept_states_are_those_of_validating_afresh(people, monkeypatch, blank, extra, answers):
    application = loaded(draft_with(people, blank=blank, extra=extra))
    expected = fresh(application)
    assert set(expected.values()) == answers
    monkeypatch.setattr(selectors, "_complete_kept", {})
    validated = []
    full_clean = SectionForm.full_clean
    monkeypatch.setattr(
        SectionForm, "full_clean", lambda form: validated.append(form) or full_clean(form)
    )
    assert selectors.sections_complete(application) == expected
    assert len(validated) == len(SECTION_FORMS) - len(application.pending_input)
    validated.clear()
    assert selectors.sections_complete(loaded(application)) == expected  # remembered
    assert validated == []


def test_only_yes_or_no_is_kept_under_a_keyed_digest(people):
    """No value of the application (a name, an ID number) stays in the process."""
    application = loaded(draft_with(people))
    selectors.sections_complete(application)
    kept = selectors._complete_kept
    assert kept and all(type(v) is bool and type(k) is bytes for k, v in kept.items())
    assert all(application.child.name.encode() not in key for key in kept)


SECOND_GUARDIAN = ("g2_name", "g2_relationship", "g2_id_number", "g2_phone", "g2_occupation")


def test_a_section_saved_through_the_service_shows_at_the_next_request(client, people):
    application = draft_with(people, blank=SECOND_GUARDIAN)
    client.force_login(people["alice"])
    assert page_state(client, application, "B") == selectors.SectionState.COMPLETE

    def save_b(**values):
        initial = SECTION_FORMS["B"].initial_for(loaded(application))
        data = as_querydict({**initial, **values})
        services.section_save(
            application=loaded(application), section="B", data=data, by=people["alice"]
        )

    save_b(g2_name="李四")  # a half-filled second guardian: saved, not complete
    assert loaded(application).pending_input == {}
    assert page_state(client, application, "B") == selectors.SectionState.IN_PROGRESS
    # And back: the state remembered for these values before is the right one again.
    save_b(g2_name="")
    assert page_state(client, application, "B") == selectors.SectionState.COMPLETE


def test_a_change_of_the_categorys_icd_codes_shows_at_the_next_request(client, people):
    application = draft_with(people)
    client.force_login(people["alice"])
    assert page_state(client, application, "D") == selectors.SectionState.COMPLETE
    category = application.category
    category.icd_codes = ["D66"]  # C91.0 is no longer in the category
    category.save()
    assert page_state(client, application, "D") == selectors.SectionState.IN_PROGRESS


def test_a_check_that_read_the_hospital_directory_is_not_kept(people):
    """D06 typed without its region: complete while the directory lists the hospital (its
    region is the directory's), not once the hospital is deactivated."""
    application = draft_with(
        people,
        blank=("hospital_province", "hospital_prefecture", "hospital_county"),
        extra={"D": {"treating_hospital": "一所不在名录的医院"}},
    )
    assert not selectors.sections_complete(loaded(application))["D"]
    hospital = Hospital.objects.create(code="kept-test", name="一所不在名录的医院", region="110102")
    assert selectors.sections_complete(loaded(application))["D"] is True
    assert services.section_complete(loaded(application), "D") is True
    hospital.is_active = False
    hospital.save()
    assert selectors.sections_complete(loaded(application))["D"] is False


def test_the_day_is_part_of_the_check(people, monkeypatch):
    """A consent dated today is complete today, and not on the day before (in the future)."""
    today = timezone.localdate()
    application = draft_with(people, extra={"H": {"consent_date": today.isoformat()}})
    assert selectors.sections_complete(loaded(application))["H"] is True
    yesterday = today - datetime.timedelta(days=1)
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: yesterday)
    assert selectors.sections_complete(loaded(application))["H"] is False
    assert services.section_complete(loaded(application), "H") is False


def test_the_childs_birth_date_is_part_of_ds_check(people):
    """D04 may not be before A05, which D's check reads from the child's row."""
    application = draft_with(people)
    assert selectors.sections_complete(loaded(application))["D"] is True
    Child.objects.filter(pk=application.child_id).update(dob=datetime.date(2026, 10, 15))
    assert selectors.sections_complete(loaded(application))["D"] is False
    assert services.section_complete(loaded(application), "D") is False


def test_other_viewers_after_the_caseworker_warmed_the_states(client, people):
    """Only a yes or no per section is kept, read by no viewer's rights: after alice (the
    member's caseworker) viewed her draft, another member's staff still get a 404 and the
    secretariat reads the same states, each as it would have with nothing kept."""
    application = draft_with(people, blank=("bank_name",))
    client.force_login(people["alice"])
    warmed = {
        k: s.state
        for k, s in client.get(f"/applications/{application.reference}/")
        .context["section_states"]
        .items()
    }
    assert warmed["G"] != selectors.SectionState.COMPLETE
    for other in ("carol", "dave"):
        client.force_login(people[other])
        assert client.get(f"/applications/{application.reference}/").status_code == 404
    client.force_login(people["sam"])
    response = client.get(f"/applications/{application.reference}/")
    assert {k: s.state for k, s in response.context["section_states"].items()} == warmed


def test_a_kept_answer_emptied_between_look_up_and_read_is_checked_afresh(people, monkeypatch):
    """Under threads (gthread), another request can empty the kept answers while this one
    reads them: one look-up, never `in` then [ ] (which raised KeyError: a 500)."""
    application = Application.objects.select_related("child", "category").get(
        pk=draft_with(people).pk
    )
    expected = selectors.sections_complete(application)

    class EmptiedAfterEachLookUp(dict):
        def __contains__(self, key):
            found = super().__contains__(key)
            self.clear()
            return found

        def get(self, key, default=None):
            found = super().get(key, default)
            self.clear()
            return found

    monkeypatch.setattr(
        selectors, "_complete_kept", EmptiedAfterEachLookUp(selectors._complete_kept)
    )
    assert selectors.sections_complete(application) == expected
