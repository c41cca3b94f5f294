"""PDFs for the upload checks, built here with pypdf (and pydyf, WeasyPrint's PDF writer, for
compressed object streams, which pypdf does not write): no binary fixture of unknown origin."""

import io

import pydyf
from pypdf import PdfWriter
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    NameObject,
    NumberObject,
    TextStringObject,
)


def _bytes(writer: PdfWriter) -> bytes:
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _writer() -> PdfWriter:
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    return writer


def plain() -> bytes:
    """One blank A4 page, as a scanner's PDF is in structure."""
    return _bytes(_writer())


def _action(kind: str, **entries) -> DictionaryObject:
    action = DictionaryObject({NameObject("/S"): NameObject(kind)})
    for key, value in entries.items():
        action[NameObject(f"/{key}")] = TextStringObject(value)
    return action


def with_javascript() -> bytes:
    """A document-level script: the catalog's /Names /JavaScript name tree (what pypdf's
    add_js wrote before 7.0), behind a reference."""
    writer = _writer()
    script = writer._add_object(_action("/JavaScript", JS="app.alert('hello');"))
    tree = DictionaryObject(
        {NameObject("/Names"): ArrayObject([TextStringObject("hello"), script])}
    )
    writer._root_object[NameObject("/Names")] = DictionaryObject(
        {NameObject("/JavaScript"): writer._add_object(tree)}
    )
    return _bytes(writer)


def with_open_action(kind: str, **entries) -> bytes:
    writer = _writer()
    writer._root_object[NameObject("/OpenAction")] = writer._add_object(_action(kind, **entries))
    return _bytes(writer)


def with_page_additional_action() -> bytes:
    """A page that runs a script when it is opened (/AA /O), nothing on the catalog."""
    writer = _writer()
    script = _action("/JavaScript", JS="app.launchURL('https://example.com/')")
    writer.pages[0][NameObject("/AA")] = DictionaryObject({NameObject("/O"): script})
    return _bytes(writer)


def with_automatic_uri() -> bytes:
    """A web address opened by itself when the page opens (a beacon), behind a reference."""
    writer = _writer()
    uri = writer._add_object(_action("/URI", URI="https://example.com/track"))
    writer.pages[0][NameObject("/AA")] = DictionaryObject({NameObject("/O"): uri})
    return _bytes(writer)


def with_link() -> bytes:
    """A link the reader may click: a hospital's PDF has these, they run nothing by themselves."""
    writer = _writer()
    writer.add_uri(0, "https://www.bch.com.cn/", [50, 50, 200, 80])
    writer._root_object[NameObject("/OpenAction")] = ArrayObject(
        [writer.pages[0].indirect_reference, NameObject("/Fit")]
    )
    return _bytes(writer)


def with_attachment() -> bytes:
    writer = _writer()
    writer.add_attachment("invoice.exe", b"MZ\x90\x00")
    return _bytes(writer)


def with_file_attachment_annotation() -> bytes:
    writer = _writer()
    annotation = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Annot"),
            NameObject("/Subtype"): NameObject("/FileAttachment"),
            NameObject("/Rect"): ArrayObject([NumberObject(n) for n in (10, 10, 30, 30)]),
        }
    )
    writer.pages[0][NameObject("/Annots")] = ArrayObject([writer._add_object(annotation)])
    return _bytes(writer)


def with_form(*, xfa: bool = False) -> bytes:
    writer = _writer()
    field = DictionaryObject(
        {
            NameObject("/FT"): NameObject("/Tx"),
            NameObject("/T"): TextStringObject("name"),
            NameObject("/Type"): NameObject("/Annot"),
            NameObject("/Subtype"): NameObject("/Widget"),
            NameObject("/Rect"): ArrayObject([NumberObject(n) for n in (10, 10, 200, 30)]),
        }
    )
    reference = writer._add_object(field)
    writer.pages[0][NameObject("/Annots")] = ArrayObject([reference])
    form = DictionaryObject({NameObject("/Fields"): ArrayObject([reference])})
    if xfa:
        form[NameObject("/XFA")] = TextStringObject("<xdp:xdp/>")
    writer._root_object[NameObject("/AcroForm")] = writer._add_object(form)
    return _bytes(writer)


def encrypted(*, user_password: str) -> bytes:
    writer = _writer()
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm="AES-128")
    return _bytes(writer)


def in_object_streams(*, place: str) -> bytes:
    """A script in a compressed object stream: its names are not in the file's bytes.
    `place`: "open-action" (the catalog's /OpenAction) or "name-tree" (/Names /JavaScript),
    or "attachment" (/Names /EmbeddedFiles)."""
    pdf = pydyf.PDF()
    script = pydyf.Dictionary({"S": "/JavaScript", "JS": pydyf.String("app.alert(1)")})
    pdf.add_object(script)
    if place == "open-action":
        pdf.catalog["OpenAction"] = script.reference
    elif place == "name-tree":
        tree = pydyf.Dictionary({"Names": pydyf.Array([pydyf.String("a"), script.reference])})
        pdf.add_object(tree)
        pdf.catalog["Names"] = pydyf.Dictionary({"JavaScript": tree.reference})
    else:
        stream = pydyf.Stream([b"MZ"])  # a stream is never in an object stream
        pdf.add_object(stream)
        spec = pydyf.Dictionary(
            {"Type": "/Filespec", "F": pydyf.String("a.exe"), "EF": pydyf.Dictionary({})}
        )
        spec["EF"]["F"] = stream.reference
        pdf.add_object(spec)
        tree = pydyf.Dictionary({"Names": pydyf.Array([pydyf.String("a"), spec.reference])})
        pdf.add_object(tree)
        pdf.catalog["Names"] = pydyf.Dictionary({"EmbeddedFiles": tree.reference})
    page = pydyf.Dictionary(
        {"Type": "/Page", "Parent": pdf.pages.reference, "MediaBox": pydyf.Array([0, 0, 9, 9])}
    )
    pdf.add_page(page)
    out = io.BytesIO()
    pdf.write(out, compress=True)
    return out.getvalue()


def assembled(bodies: list[bytes]) -> bytes:
    """A PDF of the given object bodies (object 1 the catalog), with a correct cross-reference
    table: for structures no writer makes on purpose (millions of objects, deep nesting)."""
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(bodies, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(bodies) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(bodies) + 1,
        xref,
    )
    return bytes(out)
