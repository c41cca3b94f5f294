"""The unified standard's field codes, sections and document checklist (standard.md §2)."""

from django.utils.translation import gettext_lazy as _

from organizations.eligibility import bilingual

# Section key -> title. Sections can be filled in any order.
SECTIONS = {
    "A": _("Child"),
    "B": _("Guardians"),
    "C": _("Household economics"),
    "D": _("Medical information"),
    "E": _("Medical coverage"),
    "F": _("Documents"),
    "G": _("Payment details"),
    "H": _("Consent"),
}

# Standard code -> form field name; forms, the API, PDFs and exports label fields with it.
FIELD_CODES = {
    "A01": "name",
    "A02": "id_type",
    "A03": "id_number",
    "A04": "sex",
    "A05": "dob",
    "A06": "ethnicity",
    "A07": "household_region",
    "A08": "registration",
    "A09": "address",
    "B01": "name",
    "B02": "relationship",
    "B03": "id_number",
    "B04": "phone",
    "B05": "occupation",
    "B06": "primary",
    "C01": "household_size",
    "C02": "annual_income",
    "C03": "income_source",
    "C04": "assets_debts",
    "C05": "economic_flags",
    "D01": "category",
    "D02": "icd",
    "D03": "diagnosis_text",
    "D04": "diagnosis_date",
    "D05": "diagnosing_hospital",
    "D06": "treating_hospital",
    "D07": "treatment_plan",
    "D08": "estimated_cost",
    "D09": "costs_incurred",
    "E01": "insurance_type",
    "E02": "basic_insurance",
    "E03": "other_aid",
    "G01": "payee_kind",
    "G02": "bank_name",
    "G03": "account_name",
    "G04": "account_number",
    "H01": "consent_sharing",
    "H02": "consent_date",
    "H03": "consent_publicity",
    "H04": "consent_hospital",
}

# GB/T 3304 ethnic groups (民族), in the standard's order.
ETHNIC_GROUPS = (
    "汉族 蒙古族 回族 藏族 维吾尔族 苗族 彝族 壮族 布依族 朝鲜族 满族 侗族 瑶族 白族 "
    "土家族 哈尼族 哈萨克族 傣族 黎族 傈僳族 佤族 畲族 高山族 拉祜族 水族 东乡族 纳西族 "
    "景颇族 柯尔克孜族 土族 达斡尔族 仫佬族 羌族 布朗族 撒拉族 毛南族 仡佬族 锡伯族 阿昌族 "
    "普米族 塔吉克族 怒族 乌孜别克族 俄罗斯族 鄂温克族 德昂族 保安族 裕固族 京族 塔塔尔族 "
    "独龙族 鄂伦春族 赫哲族 门巴族 珞巴族 基诺族"
).split()

# Their names in English, in the same order (GB/T 3304's romanised names, in the spelling
# English texts use): the value stored stays the Chinese name; pages show either (issue 16).
ETHNIC_GROUPS_EN = (
    "Han Mongol Hui Tibetan Uyghur Miao Yi Zhuang Bouyei Korean Manchu Dong Yao Bai "
    "Tujia Hani Kazakh Dai Li Lisu Va She Gaoshan Lahu Sui Dongxiang Naxi "
    "Jingpo Kyrgyz Tu Daur Mulao Qiang Blang Salar Maonan Gelao Xibe Achang "
    "Pumi Tajik Nu Uzbek Russian Evenki De'ang Bonan Yugur Gin Tatar "
    "Derung Oroqen Hezhen Monpa Lhoba Jino"
).split()


def ethnic_group_choices() -> list[tuple[str, str]]:
    """(stored value, name in the reader's language) for the A06 select."""
    return [(zh, bilingual(zh, en)) for zh, en in zip(ETHNIC_GROUPS, ETHNIC_GROUPS_EN, strict=True)]


# The documents every application needs; a claimed C05 status adds its certificate.
BASE_CHECKLIST = (
    "household_register",
    "guardian_id",
    "diagnosis_certificate",
    "inpatient_record",
    "cost_estimate",
)


def checklist(application) -> list[tuple[str, str]]:
    """(document type, status flag) pairs this application needs (§2 F)."""
    needed = [(doc_type, "") for doc_type in BASE_CHECKLIST]
    for flag in application.economic_flags or []:
        needed.append(("hardship_certificate", flag))
    if application.consent_method == "signed_form":
        needed.append(("consent_form", ""))
    return needed
