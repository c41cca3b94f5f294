"""Valid section answers for a complete application (computed ID numbers, demo data)."""

import struct
import zlib

from cases.identity import check_character
from tests import pdf_samples


def resident_id(region: str, dob: str, sequence: str) -> str:
    first17 = region + dob.replace("-", "") + sequence
    return first17 + check_character(first17)


CHILD_ID = resident_id("110105", "2018-03-10", "123")  # 3rd digit odd: a boy
GUARDIAN_1_ID = resident_id("110105", "1988-06-01", "042")
GUARDIAN_2_ID = resident_id("110105", "1989-07-02", "051")

SECTIONS = {
    "A": {
        "name": "王小明",
        "id_type": "resident_id",
        "id_number": CHILD_ID,
        "sex": "male",
        "dob": "2018-03-10",
        "ethnicity": "汉族",
        "household_province": "11",
        "household_prefecture": "110105",
        "registration": "urban",
        "address": "北京市朝阳区某街道 1 号",
    },
    "B": {
        "g1_name": "王大明",
        "g1_relationship": "father",
        "g1_id_number": GUARDIAN_1_ID,
        "g1_phone": "13800138000",
        "g2_name": "李红",
        "g2_relationship": "mother",
        "g2_id_number": GUARDIAN_2_ID,
        "g2_phone": "13900139000",
        "primary": "1",
    },
    "C": {
        "household_size": "4",
        "annual_income": "30000",
        "income_source": "务工",
        "assets_debts": "无房产",
        "debt_amount": "50000",
        "economic_flags": ["dibao"],
    },
    "D": {
        "category": "LEUK",
        "icd": "C91.0",
        "diagnosis_text": "急性淋巴细胞白血病",
        "diagnosis_date": "2026-10-01",
        "diagnosing_hospital": "北京儿童医院",
        "treating_hospital": "北京儿童医院",
        "hospital_province": "11",
        "hospital_prefecture": "110102",
        "department": "血液科",
        "plan_chemotherapy": "in_progress",
        "estimated_cost": "200000",
        "costs_incurred": "30000",
    },
    "E": {
        "insurance_type": "resident",
        "basic_insurance": "80000",
        "critical_illness_insurance": "10000",
        "medical_assistance": "0",
        "commercial_insurance": "0",
        "aid1_kind": "crowdfunding",
        "aid1_source": "某众筹平台",
        "aid1_amount": "5000",
        "aid1_received": "on",
    },
    "G": {
        "payee_kind": "hospital",
        "bank_name": "中国银行",
        "account_name": "北京儿童医院",
        "account_number": "6217 0000 1234 5678",
    },
    "H": {
        "consent_sharing": "on",
        "consent_date": "2026-11-20",
        "consent_method": "in_person",
    },
}


def png(width: int, height: int) -> bytes:
    """A PNG's signature and header chunk: what the upload check reads (no pixels)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + header
    return (
        b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + chunk + struct.pack(">I", zlib.crc32(chunk))
    )


# One blank page written by pypdf: the upload check reads PDFs with pypdf, so a sample must be
# a PDF a reader can open (tests/pdf_samples.py).
PDF_BYTES = pdf_samples.plain()
PNG_BYTES = png(1, 1)
