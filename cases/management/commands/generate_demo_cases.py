"""Fake applications in bulk, for benchmarks and demos (never for real data).

`python manage.py generate_demo_cases --count 100000 [--seed 1] [--batch 5000]` adds that many
applications, each with its own child record and, when submitted, two guardians. The values
look real (Chinese names, valid GB 11643 ID numbers, current county codes, ICD codes inside
the chosen category) so that the staff pages and their queries see realistic data.

A submitted application is routed as cases.review.services.route routes it (one review per active
member with the eligibility snapshot of the member's open projects, standard.md §3), in
bulk, and each review is given a life that fits its age: reviews still inside the member's
time limit are mostly pending or in review, older ones were approved (a pledge within the
funding gap), declined, expired by the time limit, or still wait for requested
information. Every state change has its ReviewEvent, at a time that fits. Grants decided
long enough ago have the money side too (standard.md §4): a medical receipt of the child,
an allocation of it to the pledge and one or two payments, so pledges are `paying` or
`paid`; a few applications are withdrawn by the family, and some paid ones closed.
`--route-existing` does the same for submitted applications that have no reviews yet (a
database filled before routing existed); it may be given with or without --count.

With --seed everything follows the seed, reference numbers too (drawn from the seeded
generator instead of `secrets`); with --until the history ends on that day instead of now,
so that `--seed 1 --until 2026-06-30` makes the same rows on every run into an empty
database. Without --seed, references come from cases.references.new_reference.
"""

from __future__ import annotations

import io
import json
import multiprocessing
import random
import time
from collections import Counter
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from decimal import Decimal

import yaml
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, connections, transaction
from django.db.models import Exists, F, OuterRef, Sum
from django.utils import timezone
from django.utils.translation import override

from cases import identity, references
from cases.crypto import EncryptedCharField, KeyedHashField
from cases.models import (
    Allocation,
    Application,
    Child,
    ChildIdentity,
    Guardian,
    MemberReview,
    OtherAid,
    Payment,
    Receipt,
    ReviewEvent,
)
from cases.standard import ETHNIC_GROUPS
from organizations import regions, selectors, services
from organizations.eligibility import (
    ECONOMIC_FLAGS,
    TREATMENTS,
    Applicant,
    evaluate,
    parse_icd_items,
)
from organizations.management.commands.load_demo import DEMO_PASSWORD, DIRECTORY_FILE
from organizations.models import AidProject, DiseaseCategory, MemberOrganization, User

# The most common surnames, most frequent first (weights fall off with the rank).
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶"
    "程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾"
    "毛郝龚邵万钱严覃武戴莫孔向汤"
)
SURNAME_WEIGHTS = [1 / (rank + 8) for rank in range(len(SURNAMES))]
# Characters common in given names (children's and their parents').
GIVEN_CHARACTERS = "".join(
    dict.fromkeys(
        "子涵浩宇欣怡梓轩雨桐一诺思远俊杰佳琪诗博文嘉明若曦晨阳萱航雅婷可馨皓然紫天佑家豪语嫣"
        "泽妍逸飞书瑶睿哲梦铭婉清奕辰乐志强秀英伟华丽敏静芳军磊洋勇艳娟涛超霞刚平辉鑫建国红梅"
        "海燕春兰玉珍小云峰林安宁凯悦彤昊然瑞雪诚毅"
    )
)
MOBILE_PREFIXES = (
    "130 131 132 133 134 135 136 137 138 139 150 151 152 153 155 156 157 158 159 166 "
    "172 173 175 176 177 178 180 181 182 183 184 185 186 187 188 189 191 198 199"
).split()
# Children's hospitals (illustrative) and the county code of their main campus.
HOSPITALS = (
    ("首都医科大学附属北京儿童医院", "110102"),
    ("上海交通大学医学院附属上海儿童医学中心", "310115"),
    ("复旦大学附属儿科医院", "310112"),
    ("四川大学华西第二医院", "510107"),
    ("广州市妇女儿童医疗中心", "440106"),
    ("重庆医科大学附属儿童医院", "500103"),
    ("浙江大学医学院附属儿童医院", "330108"),
    ("武汉儿童医院", "420102"),
    ("南京市儿童医院", "320106"),
    ("苏州大学附属儿童医院", "320508"),
)
BANKS = ("中国银行", "中国工商银行", "中国建设银行", "中国农业银行", "交通银行", "招商银行")
# By category code: department, treatments that may be in the plan, cost range in yuan.
MEDICAL = {
    "LEUK": ("血液肿瘤科", ("chemotherapy", "transplant"), (150_000, 500_000)),
    "CHD": ("心脏外科", ("surgery",), (30_000, 150_000)),
    "THAL": ("血液科", ("transplant", "long_term_medication"), (200_000, 600_000)),
    "HAEM": ("血液科", ("long_term_medication", "rehabilitation"), (50_000, 300_000)),
    "CLEFT": ("口腔颌面外科", ("surgery", "rehabilitation"), (10_000, 60_000)),
    "CANCER": ("肿瘤外科", ("surgery", "chemotherapy", "radiotherapy"), (100_000, 500_000)),
    "BLOOD": ("血液科", ("transplant", "long_term_medication"), (100_000, 400_000)),
    "ESRD": ("肾脏内科", ("dialysis", "transplant"), (100_000, 400_000)),
}
DEFAULT_MEDICAL = ("儿科", ("other",), (20_000, 200_000))
INCOME_SOURCES = ("务工", "务农", "个体经营", "单位职工", "无固定收入")
ASSETS = ("无房产", "农村自建房一处", "城镇住房一套（有贷款）", "无车，无存款", "租房居住")
OCCUPATIONS = ("务农", "务工", "个体经营", "公司职员", "无业", "教师", "司机", "外卖骑手")
DRAFT_SHARE = 0.15
FIRST_DOB = date(2008, 1, 1)
LAST_DOB = date(2025, 12, 31)
HISTORY_DAYS = 730
# Applications routed (and their reviews held in memory) at a time: about 8 reviews of
# 1.5 kB of eligibility snapshot and 2-3 events each per application.
ROUTE_CHUNK = 1000

State = MemberReview.State
ZERO = Decimal(0)
DAY = timedelta(days=1)
# What became of a review, by whether its time limit has passed and whether the member has
# an eligible project (weights). Inside the time limit most reviews still wait; after it,
# a member decided on what it can fund, declined or let expire the rest.
OPEN_STATES = (State.PENDING, State.IN_REVIEW, State.INFO_REQUESTED, State.APPROVED, State.DECLINED)
OPEN_ELIGIBLE = (40, 30, 10, 12, 8)
OPEN_NOT_ELIGIBLE = (50, 25, 3, 0, 22)
PAST_STATES = (State.APPROVED, State.DECLINED, State.EXPIRED, State.INFO_REQUESTED)
PAST_ELIGIBLE = (45, 27, 24, 4)
PAST_NOT_ELIGIBLE = (1, 56, 42, 1)
DECLINE_ELIGIBLE = (
    ("funded_elsewhere", 20),
    ("no_budget", 35),
    ("documents", 20),
    ("not_reachable", 15),
    ("other", 10),
)
REQUESTED_ITEMS = (
    "请补充最近三个月的住院费用清单。",
    "请补充加盖医院公章的诊断证明。",
    "请补充村（居）委会出具的家庭经济困难证明。",
    "请补充监护人身份证反面照片。",
    "请补充主治医生签字的治疗方案及费用预估。",
)
IN_KIND_HELP = (
    "提供凝血因子 12 个月用量",
    "安排康复训练 20 次",
    "提供营养包与药品",
    "陪护与心理支持服务",
)
# The money side (§4): a grant decided at least PAY_AFTER ago has its receipt allocated and
# paid, except UNPAID_SHARE of them (bills not in yet).
PAY_AFTER = timedelta(days=10)
UNPAID_SHARE = 0.25
# Families withdraw a few applications nobody funded; some fully paid ones are closed.
WITHDRAWN_SHARE = 0.04
CLOSED_WHEN_PAID_SHARE = 0.5
HUNDRED, ONE = Decimal(100), Decimal(1)
# Processes generating at once on PostgreSQL: the Python side is most of the work and each
# worker waits on the database part of the time, so a few more than the cores (2 here).
DEFAULT_WORKERS = 4


@contextmanager
def explicit_timestamps():
    """Let bulk_create keep the timestamps we set (spread over 2 years): created_at and
    updated_at, the reviews' routed_at and their events' at."""
    fields = [
        Child._meta.get_field("created_at"),
        ChildIdentity._meta.get_field("created_at"),
        Application._meta.get_field("created_at"),
        Application._meta.get_field("updated_at"),
        MemberReview._meta.get_field("routed_at"),
        ReviewEvent._meta.get_field("at"),
        Receipt._meta.get_field("recorded_at"),
        Allocation._meta.get_field("created_at"),
        Payment._meta.get_field("created_at"),
    ]
    saved = [(f, f.auto_now, f.auto_now_add) for f in fields]
    try:
        for f in fields:
            f.auto_now = f.auto_now_add = False
        yield
    finally:
        for f, auto_now, auto_now_add in saved:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


def insert(model, objs: list) -> None:
    """bulk_create, faster on PostgreSQL: keys drawn from the table's sequence in one query,
    then the rows sent by COPY as text, without the ORM's work per value (the reviews and
    their events are most of the time of 100,000 applications: scripts/bench_reports.py).
    Like bulk_create, each object gets its key, and a row pointing to an object saved just
    before gets that object's key."""
    if connection.vendor != "postgresql":
        model.objects.bulk_create(objs, batch_size=2000)
        return
    if not objs:
        return
    table = model._meta.db_table
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    # ID and bank numbers go in encrypted, with their search hashes (cases.crypto).
    stored = [isinstance(f, EncryptedCharField | KeyedHashField) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [table, len(objs)],
        )
        keys = [key for (key,) in cursor.fetchall()]
        buffer = io.StringIO()
        for obj, key in zip(objs, keys, strict=True):
            obj.pk = key
            obj._state.adding, obj._state.db = False, connection.alias
            values = [str(key)]
            for f, as_stored in zip(fields, stored, strict=True):
                if as_stored:
                    values.append(_copy_text(f.get_db_prep_save(f.pre_save(obj, True), connection)))
                    continue
                value = getattr(obj, f.attname)
                if value is None and f.is_relation and f.is_cached(obj):
                    value = getattr(obj, f.name).pk
                    # Through __dict__: setting the attribute would drop the cached object,
                    # and the next `application.child` would be one query per row.
                    obj.__dict__[f.attname] = value
                values.append(_copy_text(value))
            buffer.write("\t".join(values) + "\n")
        buffer.seek(0)
        sql = f"COPY {table} (id, {columns}) FROM STDIN"  # noqa: S608 - names from the model
        cursor.cursor.copy_expert(sql, buffer)


def _copy_text(value) -> str:
    """A value in COPY's text format."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False)
    elif isinstance(value, date):  # datetimes too: ISO 8601 with their offset
        return value.isoformat()
    # str.replace, not str.translate: translate is slow on long non-ASCII text.
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def icd_choices(category: DiseaseCategory) -> list[str]:
    """ICD-10 codes the category covers: every 3-character code of a range (and a few of
    its sub-codes), every dotted code as it is."""
    codes = []
    for low, high in parse_icd_items(category.icd_codes):
        if low == high:
            codes.append(low)
            if "." not in low:
                codes += [f"{low}.{n}" for n in range(3)]
            continue
        letter = low[0]
        for number in range(int(low[1:3]), int(high[1:3]) + 1):
            code = f"{letter}{number:02d}"
            codes += [code, f"{code}.0", f"{code}.1"]
    return [code for code in codes if category.covers_icd(code)] or [""]


class Faker:
    def __init__(self, rng: random.Random, *, members, staff, categories, now: datetime):
        self.rng = rng
        self.members = members
        self.staff = staff  # member id -> users
        self.categories = [(c, icd_choices(c)) for c in categories]
        self.now = now
        self.counties = [
            r.code
            for r in regions.all_regions().values()
            if r.current and r.level == "county" and r.name != "市辖区"
        ]

    # --- people ---------------------------------------------------------------------------

    def surname(self) -> str:
        return self.rng.choices(SURNAMES, SURNAME_WEIGHTS)[0]

    def name(self, surname: str | None = None) -> str:
        size = 1 if self.rng.random() < 0.3 else 2
        return (surname or self.surname()) + "".join(self.rng.choices(GIVEN_CHARACTERS, k=size))

    def resident_id(self, region: str, dob: date, sex: str) -> str:
        sequence = self.rng.randrange(0, 1000, 1)
        if (sequence % 2 == 1) != (sex == identity.MALE):
            sequence = (sequence + 1) % 1000
        first17 = f"{region}{dob:%Y%m%d}{sequence:03d}"
        return first17 + identity.check_character(first17)

    def date_between(self, first: date, last: date) -> date:
        return first + timedelta(days=self.rng.randint(0, max((last - first).days, 0)))

    def mobile(self) -> str:
        return self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"

    def child(self, created: datetime, *, filled: bool) -> Child:
        # Each application its own section A, under the child's identity (issue 14).
        child = Child(created_at=created, identity=ChildIdentity(created_at=created))
        if not filled:  # a draft opened but nothing typed yet
            return child
        sex = self.rng.choice((identity.MALE, identity.FEMALE))
        dob = self.date_between(FIRST_DOB, min(LAST_DOB, created.date() - timedelta(days=30)))
        region = self.rng.choice(self.counties)
        child.name = self.name()
        child.id_type = Child.IdType.RESIDENT_ID
        child.id_number = self.resident_id(region, dob, sex)
        child.sex = sex
        child.dob = dob
        child.ethnicity = "汉族" if self.rng.random() < 0.9 else self.rng.choice(ETHNIC_GROUPS)
        child.household_region = region
        child.registration = self.rng.choice(Child.Registration.values)
        child.address = f"{regions.name_of(region)}某街道{self.rng.randint(1, 200)}号"
        return child

    def guardians(self, application: Application, child: Child, count: int) -> list[Guardian]:
        surname = child.name[:1] or self.surname()
        region = child.household_region or self.rng.choice(self.counties)
        born = child.dob or date(2015, 1, 1)
        if self.rng.random() < 0.9:
            people = [("father", identity.MALE, surname), ("mother", identity.FEMALE, None)]
        else:
            people = [("mother", identity.FEMALE, None), ("grandparent", identity.FEMALE, None)]
        result = []
        for position, (relationship, sex, family_name) in enumerate(people[:count], start=1):
            years = (45, 65) if relationship == "grandparent" else (22, 40)
            dob = born - timedelta(days=self.rng.randint(years[0] * 365, years[1] * 365))
            result.append(
                Guardian(
                    application=application,
                    position=position,
                    name=self.name(family_name),
                    relationship=relationship,
                    id_number=self.resident_id(region, dob, sex),
                    phone=self.mobile(),
                    occupation=self.rng.choice(OCCUPATIONS),
                    is_primary=position == 1,
                )
            )
        return result

    # --- the application ------------------------------------------------------------------

    def application(self, created: datetime, child: Child, *, draft: bool) -> Application:
        member = self.rng.choice(self.members)
        application = Application(
            child=child,
            member=member,
            created_by=self.rng.choice(self.staff[member.pk]),
            status=Application.Status.DRAFT if draft else Application.Status.SUBMITTED,
            created_at=created,
            updated_at=created,
        )
        if not draft:
            # Submitted within two weeks of being opened (and not in the future).
            longest = min(14 * 86400, (self.now - created).total_seconds())
            submitted = created + timedelta(seconds=self.rng.uniform(0, longest))
            application.submitted_at = application.updated_at = submitted
        sections = (self.economics, self.medical, self.coverage, self.payment, self.consent)
        for fill in sections:
            if not draft or self.rng.random() < 0.5:
                fill(application, created)
        return application

    def money(self, low: int, high: int) -> Decimal:
        return Decimal(self.rng.randint(low // 100, high // 100) * 100)

    def economics(self, a: Application, created: datetime) -> None:
        a.household_size = self.rng.randint(3, 7)
        a.annual_income = self.money(8_000, 150_000)
        a.income_source = self.rng.choice(INCOME_SOURCES)
        a.assets_debts = self.rng.choice(ASSETS)
        a.debt_amount = self.money(0, 200_000)
        a.economic_flags = (
            [self.rng.choice(list(ECONOMIC_FLAGS))] if self.rng.random() < 0.3 else []
        )

    def medical(self, a: Application, created: datetime) -> None:
        category, codes = self.rng.choice(self.categories)
        department, treatments, (low, high) = MEDICAL.get(category.code, DEFAULT_MEDICAL)
        a.category = category
        a.icd = self.rng.choice(codes)
        a.diagnosis_text = category.name_zh
        born = a.child.dob or created.date() - timedelta(days=3 * 365)
        a.diagnosis_date = self.date_between(
            max(born, created.date() - timedelta(days=730)), created.date()
        )
        if self.rng.random() < 0.3 and a.child.household_region:
            region = a.child.household_region
            hospital = f"{regions.name_of(region[:4])}人民医院"
        else:
            hospital, region = self.rng.choice(HOSPITALS)
        a.diagnosing_hospital = a.treating_hospital = hospital
        a.hospital_region = region
        a.department = department
        chosen = self.rng.sample(treatments, self.rng.randint(1, len(treatments)))
        a.treatment_plan = {
            t: self.rng.choice(("planned", "in_progress")) for t in chosen if t in TREATMENTS
        }
        a.estimated_cost = self.money(low, high)
        a.costs_incurred = self.money(0, int(a.estimated_cost) // 2)

    def coverage(self, a: Application, created: datetime) -> None:
        kind = self.rng.choices(Application.InsuranceType.values, (80, 15, 5))[0]
        a.insurance_type = kind
        cost = int(a.estimated_cost or 100_000)
        insured = kind != Application.InsuranceType.NONE
        a.basic_insurance = self.money(cost * 3 // 10, cost * 6 // 10) if insured else Decimal(0)
        a.critical_illness_insurance = self.money(0, cost // 10) if insured else Decimal(0)
        a.medical_assistance = self.money(0, cost // 20)
        a.commercial_insurance = self.money(0, cost // 5) if self.rng.random() < 0.1 else Decimal(0)

    def payment(self, a: Application, created: datetime) -> None:
        if self.rng.random() < 0.85:
            a.payee_kind = Application.PayeeKind.HOSPITAL
            a.account_name = a.treating_hospital or self.rng.choice(HOSPITALS)[0]
        else:
            a.payee_kind = Application.PayeeKind.GUARDIAN
            a.account_name = self.name(a.child.name[:1] or None)
        a.bank_name = self.rng.choice(BANKS)
        a.account_number = "62" + "".join(str(self.rng.randrange(10)) for _ in range(17))

    def consent(self, a: Application, created: datetime) -> None:
        a.consent_sharing = self.rng.random() < 0.9
        a.consent_date = created.date()
        a.consent_method = self.rng.choice(Application.ConsentMethod.values)
        a.consent_publicity = self.rng.random() < 0.3


class Bills:
    """Receipts, allocations and payments of a chunk, saved once its reviews have keys."""

    def __init__(self):
        self.receipts, self.allocations, self.payments = [], [], []

    def save(self) -> None:
        insert(Receipt, self.receipts)
        insert(Allocation, self.allocations)
        insert(Payment, self.payments)


class Router:
    """cases.review.services.route for many applications at once, and a life for every review.

    The snapshot is the one route stores (workflow._snapshot of organizations.eligibility
    .evaluate for every open project with rules, grouped by member); only the reads that
    workflow.applicant_for makes per application (the child's earlier grants, the other
    aid) are made once per chunk. Pledges of another application of the same child in the
    same chunk are not seen (generated children have one application each).
    """

    def __init__(
        self,
        rng: random.Random,
        *,
        now: datetime,
        reviewers: dict[int, list[int]],
        part: tuple[int, int] = (0, 1),
    ):
        self.rng = rng
        self.now = now
        # Worker `part[0]` of `part[1]` draws only receipt numbers ≡ part[0] (mod part[1]),
        # so that workers running at once never draw the same one.
        self.part = part
        self.reviewers = reviewers  # member id -> ids of the users who decide
        self.members = list(MemberOrganization.objects.filter(is_active=True).order_by("number"))
        projects = list(AidProject.objects.open().with_rules().filter(current_rules__isnull=False))
        self.rules = [selectors.project_rules(p) for p in projects]
        self.projects = {m.pk: [p for p in projects if p.member_id == m.pk] for m in self.members}
        self.project_by_code = {p.code: p for p in projects}
        self.labels = selectors.category_labels()
        self.states: Counter[str] = Counter()
        self.reviews = self.events = 0
        self.receipt_keys: set[tuple[str, str]] | None = None  # read at the first receipt

    # --- routing --------------------------------------------------------------------------

    def route(self, applications: list[Application]) -> None:
        for start in range(0, len(applications), ROUTE_CHUNK):
            self._route_chunk(applications[start : start + ROUTE_CHUNK])

    def _route_chunk(self, applications: list[Application]) -> None:
        earlier = self._earlier_grants(applications)
        other_aid = dict(
            OtherAid.objects.filter(application__in=[a.pk for a in applications])
            .values("application")
            .annotate(total=Sum("amount"))
            .values_list("application", "total")
        )
        results_of = []
        for application in applications:
            every, this_category = earlier.get(application.pk, ({}, {}))
            applicant = self._applicant(
                application, every, this_category, other_aid.get(application.pk) or ZERO
            )
            results_of.append(
                evaluate(
                    applicant,
                    self.rules,
                    category_labels=self.labels,
                    region_label=regions.name_of,
                )
            )
        texts = self._reason_texts(results_of)
        reviews, events, bills, ended = [], [], Bills(), []
        for application, results in zip(applications, results_of, strict=True):
            snapshots = {code: self._snapshot(result, texts) for code, result in results.items()}
            province = application.child.household_region[:2]
            routed = [
                self._review(application, member, snapshots, province) for member in self.members
            ]
            reviews += routed
            first_event = len(events)
            # Members decide in no fixed order; together they pledge at most the need.
            aid = other_aid.get(application.pk) or ZERO
            room = max(
                (application.estimated_cost or ZERO) - application.coverage_total - aid, ZERO
            )
            for review in self.rng.sample(routed, len(routed)):
                room -= self._life(review, application, room, events, bills)
            if self._end(application, routed, events, first_event):
                ended.append(application)
        insert(MemberReview, reviews)
        insert(ReviewEvent, events)
        bills.save()
        Application.objects.bulk_update(
            ended, ["status", "closing_reason", "closed_at", "updated_at"], batch_size=1000
        )
        self.states.update(review.state for review in reviews)
        self.reviews += len(reviews)
        self.events += len(events)

    @staticmethod
    def _reason_texts(results_of: list[dict]) -> dict[int, tuple[str, str]]:
        """Every reason of the chunk in Chinese and English, switching the language twice
        per chunk instead of twice per reason (Result.as_data): a third of the time."""
        reasons = [
            reason
            for results in results_of
            for result in results.values()
            for reason in result.reasons
        ]
        with override("zh-hans"):
            zh = [str(reason.text) for reason in reasons]
        with override("en"):
            en = [str(reason.text) for reason in reasons]
        return {id(r): (z, e) for r, z, e in zip(reasons, zh, en, strict=True)}

    def _snapshot(self, result, texts) -> dict:
        """workflow._snapshot(result, project), with the texts made in bulk (same data)."""
        project = self.project_by_code[result.project]
        return {
            "name_zh": project.name_zh,
            "name_en": project.name_en,
            "kind": project.kind,
            "eligible": result.eligible,
            "suggested": None if result.suggested is None else int(result.suggested),
            "fails": list(result.fails),
            "reasons": [
                {"kind": r.kind, "zh": texts[id(r)][0], "en": texts[id(r)][1]}
                for r in result.reasons
            ],
            "rules_version": result.rules_version,
        }

    def _review(self, application, member, snapshots, province) -> MemberReview:
        snapshot = {p.code: snapshots[p.code] for p in self.projects[member.pk]}
        return MemberReview(
            application=application,
            member=member,
            eligibility=snapshot,
            any_eligible=any(item["eligible"] for item in snapshot.values()),
            category_id=application.category_id,
            province=province,
            routed_at=application.submitted_at,
            due_at=application.submitted_at + timedelta(days=member.review_days),
        )

    @staticmethod
    def _applicant(application, every, this_category, other_aid) -> Applicant:
        """workflow.applicant_for, with its reads made in bulk by the caller."""
        child = application.child
        return Applicant(
            dob=child.dob,
            application_date=timezone.localdate(application.submitted_at),
            category=application.category.code if application.category_id else "",
            icd=application.icd,
            household_region=child.household_region,
            registration=child.registration,
            hospital_region=application.hospital_region,
            flags=frozenset(application.economic_flags or []),
            household_size=application.household_size or 1,
            household_income=application.annual_income or ZERO,
            plan=application.treatment_plan or {},
            estimated_cost=application.estimated_cost or ZERO,
            coverage=application.coverage_total,
            other_aid=other_aid,
            earlier_grants=every,
            earlier_grants_this_category=this_category,
        )

    @staticmethod
    def _earlier_grants(applications) -> dict[int, tuple[dict, dict]]:
        """workflow.earlier_grants of every application of the chunk, in one query."""
        by_child: dict[int, list[Application]] = {}
        for application in applications:
            by_child.setdefault(application.child.identity_id, []).append(application)
        rows = (
            MemberReview.objects.pledging()
            .filter(application__child__identity_id__in=list(by_child), project__isnull=False)
            .values("application_id", "application__child__identity_id", "application__category_id")
            .annotate(code=F("project__code"), total=Sum("amount"))
        )
        grants: dict[int, tuple[dict, dict]] = {}
        for row in rows:
            code, total = row["code"], row["total"] or ZERO
            for application in by_child[row["application__child__identity_id"]]:
                if application.pk == row["application_id"]:
                    continue
                every, this_category = grants.setdefault(application.pk, ({}, {}))
                every[code] = every.get(code, ZERO) + total
                if row["application__category_id"] == application.category_id:
                    this_category[code] = this_category.get(code, ZERO) + total
        return grants

    # --- what became of a review -------------------------------------------------------

    def _life(self, review, application, room: Decimal, events: list, bills: Bills) -> Decimal:
        """Move the review to a state that fits its age, with an event for every change
        (at times between routing and now); returns the amount it pledges."""
        rng = self.rng
        events.append(
            ReviewEvent(
                review=review,
                actor_id=application.created_by_id,  # who submitted, as route(by=...)
                to_state=State.PENDING,
                note="routed",
                at=review.routed_at,
            )
        )
        eligible = review.any_eligible
        if self.now < review.due_at:
            states, weights = OPEN_STATES, OPEN_ELIGIBLE if eligible else OPEN_NOT_ELIGIBLE
        else:
            states, weights = PAST_STATES, PAST_ELIGIBLE if eligible else PAST_NOT_ELIGIBLE
        target = rng.choices(states, weights)[0]
        if target == State.PENDING:
            return ZERO
        reviewer = rng.choice(self.reviewers[review.member_id])
        start, end = review.routed_at, min(self.now, review.due_at)
        moments = sorted(start + (end - start) * rng.random() for _ in range(4))
        if target == State.EXPIRED:
            if rng.random() < 0.4:
                self._event(review, events, State.IN_REVIEW, moments[0], reviewer)
            expired = min(self.now, review.due_at + DAY * rng.random())  # the nightly job
            self._event(review, events, State.EXPIRED, expired, None, note="time limit")
            return ZERO
        if target in (State.IN_REVIEW, State.INFO_REQUESTED) or rng.random() < 0.85:
            self._event(review, events, State.IN_REVIEW, moments[0], reviewer)
        if target == State.IN_REVIEW:
            return ZERO
        if target == State.INFO_REQUESTED or rng.random() < 0.15:
            items = rng.choice(REQUESTED_ITEMS)
            self._event(review, events, State.INFO_REQUESTED, moments[1], reviewer, note=items)
            review.requested_items = items
            review.info_requested_at = moments[1]
            if target == State.INFO_REQUESTED:
                return ZERO
            # Answered by the caseworker: the clock was paused meanwhile.
            self._event(review, events, State.IN_REVIEW, moments[2], application.created_by_id)
            review.due_at += moments[2] - moments[1]
            review.info_requested_at = None
        review.decided_at, review.decided_by_id = moments[3], reviewer
        if target == State.APPROVED:
            pledged = self._approve(review, room)
            if pledged is not None:
                self._event(
                    review,
                    events,
                    State.APPROVED,
                    moments[3],
                    reviewer,
                    note=review.override_reason,
                )
                self._pay(review, application, events, bills)
                return pledged
        self._decline(review, funded=target == State.APPROVED)
        note = str(MemberReview.DeclineReason(review.decline_reason).label)
        self._event(review, events, State.DECLINED, moments[3], reviewer, note=note)
        return ZERO

    def _approve(self, review, room: Decimal) -> Decimal | None:
        """Choose a project and a pledge within the remaining need (None: nothing fits)."""
        rng = self.rng
        projects = self.projects[review.member_id]
        eligible = [p for p in projects if review.eligibility[p.code]["eligible"]]
        if not eligible:
            if not projects:
                return None
            eligible = [rng.choice(projects)]
            review.override_reason = "家庭困难情况特殊，经项目评审会讨论同意资助。"
        rng.shuffle(eligible)
        for project in eligible:
            if project.kind != AidProject.Kind.GRANT:
                review.project, review.description = project, rng.choice(IN_KIND_HELP)
                return ZERO
            suggested = review.eligibility[project.code]["suggested"] or 0
            amount = Decimal(suggested) if suggested > 0 else Decimal(rng.randint(50, 500) * 100)
            amount = min(amount, room)
            if amount > 0:
                review.project, review.amount = project, amount
                return amount
        review.override_reason = ""
        return None

    def _decline(self, review, *, funded: bool) -> None:
        if funded:  # meant to approve, but others have pledged the whole need
            review.decline_reason = MemberReview.DeclineReason.FUNDED_ELSEWHERE
        elif not review.any_eligible and self.rng.random() < 0.85:
            review.decline_reason = MemberReview.DeclineReason.NOT_ELIGIBLE
        else:
            reasons, weights = zip(*DECLINE_ELIGIBLE, strict=True)
            review.decline_reason = self.rng.choices(reasons, weights)[0]

    # --- the money side and the end of an application -----------------------------------

    def _between(self, start: datetime, days: float) -> datetime:
        """A moment up to `days` after `start`, never after now."""
        return min(self.now, start + timedelta(days=days * self.rng.random()))

    def _part(self, amount: Decimal) -> Decimal:
        """A part of an amount, in hundreds of yuan, leaving at least 100 for later."""
        if amount < 2 * HUNDRED:
            return amount
        part = (amount * Decimal(self.rng.uniform(0.3, 0.8)) / HUNDRED).quantize(ONE) * HUNDRED
        return min(max(part, HUNDRED), amount - HUNDRED)

    def _receipt_key(self, application, issued: date) -> tuple[str, str]:
        if self.receipt_keys is None:
            self.receipt_keys = set(Receipt.objects.values_list("code", "number"))
        code = f"{(application.hospital_region or '110000')[:6]}{issued:%y}"
        while True:
            worker, workers = self.part
            number = self.rng.randrange(10**10 // workers) * workers + worker
            key = (code, f"{number:010d}")
            if key not in self.receipt_keys:
                self.receipt_keys.add(key)
                return key

    def _pay(self, review, application, events, bills: Bills) -> None:
        """A grant decided long enough ago (§4): the child's receipt, its allocation to the
        pledge (all of it, or a part while bills come in) and one or two payments of what is
        allocated, all or a part; the review moves approved → paying → paid."""
        rng, amount = self.rng, review.amount
        if amount is None or self.now - review.decided_at < PAY_AFTER:
            return
        if rng.random() < UNPAID_SHARE:
            return
        allocated = amount if rng.random() < 0.8 else self._part(amount)
        paid = allocated if rng.random() < 0.7 else self._part(allocated)
        parts = [paid] if rng.random() < 0.6 else [first := self._part(paid), paid - first]
        parts = [part for part in parts if part > 0]
        recorded = self._between(review.decided_at, 6)
        issued = timezone.localdate(
            self._between(
                application.submitted_at, (review.decided_at - application.submitted_at).days
            )
        )
        self_paid = (allocated * Decimal(rng.uniform(0.2, 0.5))).quantize(ONE)
        co_payment = allocated - self_paid + Decimal(rng.randrange(0, 50)) * HUNDRED
        insurance = ((self_paid + co_payment) * Decimal(rng.uniform(0.5, 1.5))).quantize(ONE)
        code, number = self._receipt_key(application, issued)
        receipt = Receipt(
            code=code,
            number=number,
            child_id=application.child_id,
            application=application,
            hospital=application.treating_hospital or HOSPITALS[0][0],
            issued_on=issued,
            kind=rng.choice(Receipt.Kind.values),
            patient_number=f"ZY{rng.randrange(10**8):08d}",
            total=insurance + co_payment + self_paid,
            insurance_fund=insurance,
            co_payment=co_payment,
            self_paid=self_paid,
            allocated_total=allocated,
            recorded_by_id=review.decided_by_id,
            recorded_member_id=review.member_id,
            recorded_at=recorded,
        )
        bills.receipts.append(receipt)
        bills.allocations.append(
            Allocation(
                receipt=receipt,
                review=review,
                amount=allocated,
                created_by_id=review.decided_by_id,
                created_at=recorded,
            )
        )
        review.allocated_total, moment = allocated, recorded
        for part in parts:
            moment = self._between(moment, 20)
            hospital = (application.payee_kind or "hospital") == Application.PayeeKind.HOSPITAL
            bills.payments.append(
                Payment(
                    review=review,
                    paid_on=timezone.localdate(moment),
                    payee_kind=application.payee_kind or Application.PayeeKind.HOSPITAL,
                    payee_name=application.account_name or receipt.hospital,
                    bank_name=application.bank_name,
                    account_number=application.account_number,
                    amount=part,
                    method="hospital_settlement" if hospital else "bank_transfer",
                    bank_reference=f"TX{rng.randrange(10**10):010d}",
                    created_by_id=review.decided_by_id,
                    created_at=moment,
                )
            )
            review.paid_total += part
            to_state = State.PAID if review.paid_total >= amount else State.PAYING
            if to_state != review.state:
                self._event(review, events, to_state, moment, review.decided_by_id, note="payment")

    def _end(self, application, routed, events, first_event: int) -> bool:
        """Withdraw a few applications nobody funded, close some fully paid ones (§3); True
        when the application changed."""
        rng = self.rng
        last = max((event.at for event in events[first_event:]), default=application.submitted_at)
        states = {review.state for review in routed}
        if states & set(MemberReview.PLEDGING_STATES):
            if states & set(MemberReview.OPEN_STATES) or states & {State.APPROVED, State.PAYING}:
                return False
            if rng.random() >= CLOSED_WHEN_PAID_SHARE:
                return False
            application.status = Application.Status.CLOSED
            application.closing_reason = rng.choice(
                (
                    Application.ClosingReason.TREATMENT_ENDED,
                    Application.ClosingReason.FUNDED_IN_FULL,
                )
            )
        elif rng.random() < WITHDRAWN_SHARE and self.now - last > timedelta(days=2):
            application.status = Application.Status.WITHDRAWN
            application.closing_reason = Application.ClosingReason.WITHDRAWN
        else:
            return False
        application.closed_at = application.updated_at = self._between(last, 30)
        for review in routed:
            if review.state in MemberReview.OPEN_STATES:
                self._event(
                    review,
                    events,
                    State.WITHDRAWN,
                    application.closed_at,
                    application.created_by_id,
                    note="withdrawn",
                )
        return True

    @staticmethod
    def _event(review, events, to_state, at, actor_id, *, note="") -> None:
        events.append(
            ReviewEvent(
                review=review,
                actor_id=actor_id,
                from_state=review.state,
                to_state=to_state,
                note=note[:500],
                at=at,
            )
        )
        review.state = to_state


class Command(BaseCommand):
    help = (
        "Add N fake applications (demo data for benchmarks) to the demo directory, routed to "
        "the members; --route-existing routes submitted applications that have no reviews."
    )

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, default=0, help="How many to add.")
        parser.add_argument(
            "--seed", type=int, default=None, help="Random seed: the same rows for the same seed."
        )
        parser.add_argument(
            "--until",
            type=date.fromisoformat,
            default=None,
            help="The last day of the history (YYYY-MM-DD; default: now).",
        )
        parser.add_argument("--batch", type=int, default=5000, help="Rows per transaction.")
        parser.add_argument(
            "--workers",
            type=int,
            default=None,
            help=(
                f"Processes generating at once (default {DEFAULT_WORKERS} on PostgreSQL, 1 on "
                "SQLite or inside a transaction). The same seed and workers give the same rows."
            ),
        )
        parser.add_argument(
            "--route-existing",
            action="store_true",
            help="First route the submitted applications that have no member reviews yet.",
        )
        parser.add_argument(
            "--i-know-this-is-demo",
            action="store_true",
            dest="demo_ok",
            help="Run even with DEBUG off (fake applications, demo users with a known password).",
        )

    def handle(
        self,
        *args,
        count=0,
        seed=None,
        until=None,
        batch=5000,
        route_existing=False,
        demo_ok=False,
        workers=None,
        **options,
    ):
        if not settings.DEBUG and not demo_ok:
            raise CommandError(
                "DEBUG is off: this fills the database with fake applications. Pass "
                "--i-know-this-is-demo to run it anyway."
            )
        if count < 0 or batch < 1 or not (count or route_existing):
            raise CommandError(
                "Give --count (at least 1) and/or --route-existing; --batch is at least 1."
            )
        if workers is not None and workers < 1:
            raise CommandError("--workers is at least 1.")
        if connection.vendor != "postgresql" or connection.in_atomic_block:
            # SQLite has one writer; inside a transaction (tests) other processes would not
            # see the directory.
            workers = 1
        workers = min(workers or DEFAULT_WORKERS, max(count, 1))
        # The directory, the staff and the reviewers exist before any worker starts.
        self._directory_and_staff()
        reviewers = self._reviewers()
        rng = random.Random(seed)  # noqa: S311 - fake data, not secrets
        now = timezone.now()
        if until is not None:
            end_of_day = datetime.combine(until + DAY, datetime.min.time())
            now = min(now, timezone.make_aware(end_of_day) - timedelta(microseconds=1))
        verbose = options.get("verbosity", 1) > 1
        router = Router(rng, now=now, reviewers=reviewers)
        if route_existing:
            self._route_existing(router, batch, verbose)
        if count:
            started = time.monotonic()
            if workers == 1:
                parts = [self._generate_part(0, 1, count, seed, batch, now, verbose, rng, router)]
            else:
                # Each worker its own connection: none is shared across the fork.
                connections.close_all()
                jobs = [
                    (w, workers, count // workers + (w < count % workers))
                    + (seed, batch, now, verbose)
                    for w in range(workers)
                ]
                with multiprocessing.get_context("fork").Pool(workers) as pool:
                    parts = pool.starmap(_generate_part, jobs)
            self._report(parts, time.monotonic() - started, workers)
        self._analyze()

    def _generate_part(
        self, worker, workers, count, seed, batch, now, verbose, rng=None, router=None
    ) -> dict:
        """`count` applications by worker `worker` of `workers`: its own random stream
        (the seed's own when alone), references and receipt numbers no other worker draws."""
        if rng is None:
            rng = random.Random(f"{seed}:{worker}/{workers}" if seed is not None else None)  # noqa: S311
        # Seeded references follow the seed too (see the module's docstring).
        self.reference_rng = rng if seed is not None else None
        self.part = (worker, workers)
        members, staff = self._directory_and_staff()
        if router is None:
            router = Router(rng, now=now, reviewers=self._reviewers(), part=self.part)
        faker = Faker(
            rng,
            members=members,
            staff=staff,
            categories=list(DiseaseCategory.objects.all()),
            now=now,
        )
        before = (router.reviews, router.events, Counter(router.states))
        guardians = self._generate(count, batch, faker, router, verbose)
        return {
            "count": count,
            "guardians": guardians,
            "reviews": router.reviews - before[0],
            "events": router.events - before[1],
            "states": Counter(router.states) - before[2],
        }

    def _report(self, parts: list[dict], elapsed: float, workers: int) -> None:
        count = sum(p["count"] for p in parts)
        states = sum((p["states"] for p in parts), Counter())
        self.stdout.write(
            f"Generated {count} applications ({count} children, "
            f"{sum(p['guardians'] for p in parts)} guardians, "
            f"{sum(p['reviews'] for p in parts)} member reviews, "
            f"{sum(p['events'] for p in parts)} review events) "
            f"in {elapsed:.1f} s ({count / elapsed:.0f} applications/s, {workers} "
            f"worker{'s' if workers > 1 else ''})."
        )
        self._states(states)

    @staticmethod
    def _analyze() -> None:
        """Fresh statistics for PostgreSQL's planner: right after a bulk load it still plans
        for the empty tables, and a report over 100,000 applications took minutes instead
        of seconds until autovacuum came by."""
        if connection.vendor != "postgresql":
            return
        models = (Child, Application, Guardian, MemberReview, ReviewEvent, Receipt, Allocation)
        tables = ", ".join(m._meta.db_table for m in (*models, Payment))
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {tables}")  # noqa: S608 - table names from the models

    def _generate(self, count: int, batch: int, faker: Faker, router: Router, verbose: bool):
        # Oldest first, so that rows are stored roughly in creation order as in real use.
        ages = sorted(
            (faker.rng.uniform(0, HISTORY_DAYS * 86400) for _ in range(count)), reverse=True
        )
        taken = set(Application.objects.values_list("reference", flat=True))
        guardians = 0
        with explicit_timestamps():
            for start in range(0, count, batch):
                created = [
                    faker.now - timedelta(seconds=age) for age in ages[start : start + batch]
                ]
                guardians += self._batch(faker, router, created, taken)
                if verbose:
                    self.stdout.write(f"  {start + len(created)}/{count}")
        return guardians

    def _route_existing(self, router: Router, batch: int, verbose: bool) -> int:
        """Route, `batch` per transaction, every submitted application with no review."""
        started = time.monotonic()
        unrouted = Application.objects.filter(status=Application.Status.SUBMITTED).exclude(
            Exists(MemberReview.objects.filter(application=OuterRef("pk")))
        )
        total, done, last = unrouted.count(), 0, 0
        with explicit_timestamps():
            while ids := list(
                unrouted.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:batch]
            ):
                last = ids[-1]
                with transaction.atomic():
                    for start in range(0, len(ids), ROUTE_CHUNK):
                        chunk = ids[start : start + ROUTE_CHUNK]
                        router.route(
                            list(
                                Application.objects.filter(pk__in=chunk)
                                .select_related("child", "category")
                                .order_by("pk")
                            )
                        )
                done += len(ids)
                if verbose:
                    self.stdout.write(f"  routed {done}/{total}")
        elapsed = time.monotonic() - started
        self.stdout.write(
            f"Routed {done} existing applications ({router.reviews} member reviews, "
            f"{router.events} review events) in {elapsed:.1f} s"
            + (f" ({done / elapsed:.0f} applications/s)." if done else ".")
        )
        if done:
            self._states(router.states)
        return done

    def _states(self, states: Counter) -> None:
        total = sum(states.values()) or 1
        self.stdout.write(
            "  review states: "
            + ", ".join(
                f"{state} {n} ({100 * n / total:.1f}%)" for state, n in states.most_common()
            )
        )

    def _batch(self, faker: Faker, router: Router, created: list[datetime], taken: set[str]) -> int:
        rng = faker.rng
        children, applications, guardians = [], [], []
        for moment in created:
            draft = rng.random() < DRAFT_SHARE
            child = faker.child(moment, filled=not draft or rng.random() < 0.9)
            application = faker.application(moment, child, draft=draft)
            application.reference = self._reference(moment.year, taken)
            children.append(child)
            applications.append(application)
        with transaction.atomic():
            # bulk_create copies each new child's (then application's) key into the rows
            # that point to it.
            insert(ChildIdentity, [child.identity for child in children])
            insert(Child, children)
            insert(Application, applications)
            for application in applications:
                draft = application.status == Application.Status.DRAFT
                count = rng.choice((0, 1, 2)) if draft else 2
                guardians += faker.guardians(application, application.child, count)
            insert(Guardian, guardians)
            # Submission routes in the same transaction (services.application_submit).
            router.route([a for a in applications if a.status == Application.Status.SUBMITTED])
        return len(guardians)

    def _reference(self, year: int, taken: set[str]) -> str:
        while True:  # about 1 in 10,000 draws repeats one of 100,000 references: draw again
            reference = self._draw_reference(year)
            if reference not in taken:
                taken.add(reference)
                return reference

    def _draw_reference(self, year: int) -> str:
        """references.new_reference, from the seeded generator when there is a seed; a
        worker keeps the references whose first random character is its own (one in
        `workers`), so that workers running at once never draw the same one."""
        worker, workers = self.part
        while True:
            reference = self._any_reference(year)
            first = reference.rsplit("-", 1)[1][0]
            if references.ALPHABET.index(first) % workers == worker:
                return reference

    def _any_reference(self, year: int) -> str:
        rng = self.reference_rng
        if rng is None:
            return references.new_reference(year)
        while True:
            payload = f"{year}" + "".join(
                rng.choice(references.ALPHABET) for _ in range(references.RANDOM_LENGTH)
            )
            payload += references.check_character(payload)
            if "0Z" not in payload and "Z0" not in payload:  # references' blind spot
                return f"{references.PREFIX}-{year}-{payload[4:]}"

    def _directory_and_staff(self):
        """The demo directory's members and, for each, the users entered as created_by."""
        if not MemberOrganization.objects.exists() or not DiseaseCategory.objects.exists():
            data = yaml.safe_load(DIRECTORY_FILE.read_text(encoding="utf-8"))
            services.directory_load(data=data)
            self.stdout.write("Loaded the demo directory.")
        members = list(MemberOrganization.objects.order_by("number"))
        by_member: dict[int, list[User]] = {m.pk: [] for m in members}
        for user in User.objects.filter(
            role__in=[User.Role.CASEWORKER, User.Role.REVIEWER], organization__in=members
        ).order_by("username"):
            by_member[user.organization_id].append(user)
        staff = {}
        for member in members:
            users = by_member[member.pk]
            # Caseworkers enter applications; a member with only reviewers uses those.
            caseworkers = [u for u in users if u.role == User.Role.CASEWORKER]
            staff[member.pk] = caseworkers or users or [self._caseworker(member)]
        return members, staff

    def _reviewers(self) -> dict[int, list[int]]:
        """Ids of each active member's reviewers (who decide on its reviews), created when
        a member has none."""
        reviewers: dict[int, list[int]] = {}
        for member in MemberOrganization.objects.filter(is_active=True).order_by("number"):
            ids = list(
                User.objects.filter(organization=member, role=User.Role.REVIEWER, is_active=True)
                .order_by("username")
                .values_list("pk", flat=True)
            )
            reviewers[member.pk] = ids or [self._user(member, User.Role.REVIEWER).pk]
        return reviewers

    def _caseworker(self, member: MemberOrganization) -> User:
        return self._user(member, User.Role.CASEWORKER)

    def _user(self, member: MemberOrganization, role: str) -> User:
        username = f"m{member.number}-{role}"
        if User.objects.filter(username=username).exists():
            username += "-demo"
        user = services.user_create(
            by=None,
            username=username,
            password=DEMO_PASSWORD,
            role=role,
            organization=member,
        )
        self.stdout.write(f"Created {role} {username} (password: {DEMO_PASSWORD}).")
        return user


def _generate_part(worker, workers, count, seed, batch, now, verbose) -> dict:
    """A worker process's share (forked: a new connection, the directory already loaded)."""
    # A connection object inherited from the parent is the parent's session: never use or
    # close it here (closing would end the parent's session); this process opens its own.
    for inherited in connections.all(initialized_only=True):
        inherited.connection = None
    try:
        return Command()._generate_part(worker, workers, count, seed, batch, now, verbose)
    finally:
        connections.close_all()
