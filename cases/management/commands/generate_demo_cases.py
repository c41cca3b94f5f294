"""Fake applications in bulk, for benchmarks and demos (never for real data).

`python manage.py generate_demo_cases --count 100000 [--seed 1] [--batch 5000]` adds that many
applications, each with its own child record and, when submitted, two guardians. The values
look real (Chinese names, valid GB 11643 ID numbers, current county codes, ICD codes inside
the chosen category) so that the staff pages and their queries see realistic data.

Reference numbers come from cases.references.new_reference, which draws from `secrets`:
they differ from run to run even with --seed; everything else follows the seed.
"""

from __future__ import annotations

import random
import time
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from decimal import Decimal

import yaml
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from cases import identity, references
from cases.models import Application, Child, Guardian
from cases.standard import ETHNIC_GROUPS
from organizations import regions, services
from organizations.eligibility import ECONOMIC_FLAGS, TREATMENTS, parse_icd_items
from organizations.management.commands.load_demo import DEMO_PASSWORD, DIRECTORY_FILE
from organizations.models import DiseaseCategory, MemberOrganization, User

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


@contextmanager
def explicit_timestamps():
    """Let bulk_create keep the created_at/updated_at values we set (spread over 2 years)."""
    fields = [
        Child._meta.get_field("created_at"),
        Application._meta.get_field("created_at"),
        Application._meta.get_field("updated_at"),
    ]
    saved = [(f, f.auto_now, f.auto_now_add) for f in fields]
    try:
        for f in fields:
            f.auto_now = f.auto_now_add = False
        yield
    finally:
        for f, auto_now, auto_now_add in saved:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


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
        child = Child(created_at=created)
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


class Command(BaseCommand):
    help = "Add N fake applications (demo data for benchmarks) to the demo directory."

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, required=True, help="How many to add.")
        parser.add_argument("--seed", type=int, default=None, help="Random seed.")
        parser.add_argument("--batch", type=int, default=5000, help="Rows per transaction.")
        parser.add_argument(
            "--i-know-this-is-demo",
            action="store_true",
            dest="demo_ok",
            help="Run even with DEBUG off (fake applications, demo users with a known password).",
        )

    def handle(self, *args, count, seed=None, batch=5000, demo_ok=False, **options):
        if not settings.DEBUG and not demo_ok:
            raise CommandError(
                "DEBUG is off: this fills the database with fake applications. Pass "
                "--i-know-this-is-demo to run it anyway."
            )
        if count < 1 or batch < 1:
            raise CommandError("--count and --batch must be at least 1.")
        started = time.monotonic()
        members, staff = self._directory_and_staff()
        rng = random.Random(seed)  # noqa: S311 - fake data, not secrets
        now = timezone.now()
        faker = Faker(
            rng,
            members=members,
            staff=staff,
            categories=list(DiseaseCategory.objects.all()),
            now=now,
        )
        # Oldest first, so that rows are stored roughly in creation order as in real use.
        ages = sorted((rng.uniform(0, HISTORY_DAYS * 86400) for _ in range(count)), reverse=True)
        taken = set(Application.objects.values_list("reference", flat=True))
        guardians = 0
        with explicit_timestamps():
            for start in range(0, count, batch):
                created = [now - timedelta(seconds=age) for age in ages[start : start + batch]]
                guardians += self._batch(faker, created, taken)
                if options.get("verbosity", 1) > 1:
                    self.stdout.write(f"  {start + len(created)}/{count}")
        elapsed = time.monotonic() - started
        self.stdout.write(
            f"Generated {count} applications ({count} children, {guardians} guardians) "
            f"in {elapsed:.1f} s ({count / elapsed:.0f} applications/s)."
        )

    def _batch(self, faker: Faker, created: list[datetime], taken: set[str]) -> int:
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
            Child.objects.bulk_create(children)
            Application.objects.bulk_create(applications)
            for application in applications:
                draft = application.status == Application.Status.DRAFT
                count = rng.choice((0, 1, 2)) if draft else 2
                guardians += faker.guardians(application, application.child, count)
            Guardian.objects.bulk_create(guardians)
        return len(guardians)

    @staticmethod
    def _reference(year: int, taken: set[str]) -> str:
        while True:  # about 1 in 10,000 draws repeats one of 100,000 references: draw again
            reference = references.new_reference(year)
            if reference not in taken:
                taken.add(reference)
                return reference

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

    def _caseworker(self, member: MemberOrganization) -> User:
        username = f"m{member.number}-caseworker"
        if User.objects.filter(username=username).exists():
            username += "-demo"
        user = services.user_create(
            username=username,
            password=DEMO_PASSWORD,
            role=User.Role.CASEWORKER,
            organization=member,
        )
        self.stdout.write(f"Created caseworker {username} (password: {DEMO_PASSWORD}).")
        return user
