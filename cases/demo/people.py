"""Fake but realistic people and applications (names, ID numbers, hospitals, sections)."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from decimal import Decimal

from cases import identity
from cases.models import (
    Application,
    Child,
    ChildIdentity,
    Guardian,
)
from cases.standard import ETHNIC_GROUPS
from organizations import regions
from organizations.eligibility import (
    ECONOMIC_FLAGS,
    TREATMENTS,
    parse_icd_items,
)
from organizations.models import DiseaseCategory, Hospital

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
        # D06 from the hospital directory where the demo hospital is listed (issue 17).
        self.directory_hospitals = dict(Hospital.objects.values_list("name", "pk"))

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
        a.treating_hospital_ref_id = self.directory_hospitals.get(hospital)
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
        # Demo consents are recorded under the consent text's second version (issue 17),
        # whose clause H04 covers the treating hospital of the directory; no draw from the
        # generator, so the other demo values stay what they were.
        a.consent_hospital = a.consent_sharing and a.treating_hospital_ref_id is not None
