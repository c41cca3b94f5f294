"""The reports as they read (issue 16, finding 7): the monthly chart's axis in whole
numbers, each chart with its caption on one PDF page, the period chosen with two selects
(older ?period= links still work), and the application PDF's guardians and other aid."""

import re
import subprocess

import pytest
from django.utils import translation
from django.utils.translation import gettext

from reports.charts import count_ticks, trend_chart
from reports.forms import PeriodPickerForm
from reports.periods import parse_period
from reports.selectors import Line, report_figures
from tests.conftest import client_for
from tests.test_reports import as_secretariat, generate, get_bytes
from tests.test_workflow import submitted

pytestmark = pytest.mark.django_db


def zh(message: str) -> str:
    with translation.override("zh-hans"):
        return gettext(message)


def axis_labels(svg: str) -> list[str]:
    """The y-axis tick labels of a trend chart: its small right-aligned texts."""
    return re.findall(r'<text [^>]*font-size="10" text-anchor="end"[^>]*>([^<]*)</text>', svg)


@pytest.mark.parametrize(
    ("largest", "ticks"),
    [
        (0, [0, 1]),
        (1, [0, 1]),
        (3, [0, 1, 2, 3]),
        (7, [0, 2, 4, 6, 8]),
        (23, [0, 5, 10, 15, 20, 25]),
        (120, [0, 50, 100, 150]),
    ],
)
def test_the_axis_of_counts_has_whole_evenly_spaced_ticks(largest, ticks):
    assert count_ticks(largest) == ticks


def test_a_month_with_one_application_reads_0_and_1_not_1_0_0():
    lines = [Line("2026-10", "2026-10", received=1, funded=0), Line("2026-11", "2026-11")]
    svg = str(trend_chart(lines, title="t", received="r", funded="f"))
    labels = axis_labels(svg)
    assert sorted(labels, key=int) == ["0", "1"], labels
    assert len(labels) == len(set(labels))


def test_the_period_is_chosen_with_a_year_and_then_a_quarter_or_a_month():
    form = PeriodPickerForm()
    years = [value for value, _ in form.fields["year"].choices]
    assert "2026" in years and years == sorted(years, reverse=True)
    parts = form.fields["part"].choices
    assert parts[0][0] == ""  # the whole year
    groups = dict(parts[1:])
    assert [value for value, _ in next(iter(groups.values()))] == ["Q1", "Q2", "Q3", "Q4"]
    assert [value for value, _ in list(groups.values())[1]] == [f"{n:02d}" for n in range(1, 13)]
    for data, code in (
        ({"year": "2026", "part": "Q4"}, "2026-Q4"),
        ({"year": "2026", "part": "05"}, "2026-05"),
        ({"year": "2026", "part": ""}, "2026"),
        ({"period": "2026-Q3"}, "2026-Q3"),  # the older links
        ({"period": "2026-11"}, "2026-11"),
        ({"period": "2099-Q4"}, "2099-Q4"),
    ):
        form = PeriodPickerForm(data)
        assert form.is_valid(), (data, form.errors)
        assert form.cleaned_data["period"].code == code
    assert not PeriodPickerForm({"period": "last spring"}).is_valid()


def test_the_dashboard_shows_the_two_selects_filled_from_an_older_link(client, people):
    html = as_secretariat(client, people).get("/reports/?period=2026-Q3").content.decode()
    assert '<select name="year"' in html and '<select name="part"' in html
    assert '<option value="2026" selected>' in html
    assert '<option value="Q3" selected>' in html
    assert 'name="period"' not in html.split('class="form period-form"', 1)[1].split("</form>")[0]
    html = client.get("/reports/?year=2026&part=05").content.decode()
    assert '<option value="05" selected>' in html


def pdf_pages(content: bytes, tmp_path) -> list[str]:
    path = tmp_path / "file.pdf"
    path.write_bytes(content)
    result = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return [" ".join(page.split()) for page in result.stdout.decode().split("\f")]


def test_each_chart_of_the_report_pdf_is_on_the_page_of_its_caption(client, people, tmp_path):
    generate()  # tests.test_reports' data: the first caption fell at the foot of page 1
    response = as_secretariat(client, people).get("/reports/download/?period=2026&format=pdf")
    pages = pdf_pages(get_bytes(response), tmp_path)
    # Each caption, and the first words drawn in its chart: its first bar's label, or the
    # legend. (The page's footer follows an orphaned caption; it is not the chart.)
    with translation.override("zh-hans"):
        figures = report_figures(parse_period("2026"))
        captions = {
            gettext("Pledged by member organisation (yuan)"): figures.by_member[0].label[:14],
            gettext("Applications received by disease category"): figures.by_category[0].label[:14],
            gettext("Applications per month: received and funded"): gettext("Received"),
        }
    for caption, drawn in captions.items():
        page = next(i for i, text in enumerate(pages) if caption in text)
        after = pages[page].split(caption, 1)[1]
        assert drawn in after, f"the caption {caption!r} ends page {page + 1}, apart from its chart"


def test_the_application_pdf_labels_guardian_2_and_leaves_out_empty_aid_lines(
    client, people, tmp_path
):
    application = submitted(people["alice"])
    response = client_for(client, people["alice"]).get(
        f"/reports/applications/{application.reference}/pdf/"
    )
    assert response.status_code == 200
    text = " ".join(pdf_pages(get_bytes(response), tmp_path))
    guardian_2 = zh("Guardian 2")
    assert zh("Guardian 1") in text and guardian_2 in text
    assert text.index(guardian_2) < text.index("李红")  # the second guardian, under its name
    # The sample has one other-aid line (a crowdfunding, received); lines 2 and 3 are empty.
    received = zh("Already received")
    assert text.count(received) == 1
    assert f"{received} —" not in text
    assert zh("Other aid %(n)s") % {"n": 1} in text
    assert zh("Other aid %(n)s") % {"n": 2} not in text
    # Money as on every page.
    assert "200,000" in text and "200000" not in text
