"""The entries of a refused form's error summary (templates/_error_summary.html, the GOV.UK
pattern): one per field in error, in the form's order, each linked to the field's first
input so that following the link moves the focus there. Shared by every page with a form:
the intake, the receipts, the pre-check."""

from __future__ import annotations


def field_anchor(field) -> str:
    """The id of a bound field's first input: the input itself, or for a group of radios
    or checkboxes (rendered in a fieldset, no single input) its first choice."""
    if field.use_fieldset:
        return f"{field.auto_id}_0"
    return field.id_for_label or field.auto_id


def entry(*, anchor: str, label, message, code: str = "") -> dict:
    return {"anchor": anchor, "code": code, "label": str(label), "message": str(message)}


def form_error_summary(
    form, *, anchors=None, labels=None, whole_form_anchor="", whole_form_label=""
) -> list[dict]:
    """The summary's entries for `form`: a field's messages under its label and linked to
    its input (or to `anchors`' target for that field, under `labels`' label); the errors
    of the whole form link to `whole_form_anchor`."""
    anchors, labels = anchors or {}, labels or {}
    errors = []
    for field in form:
        if field.errors:
            errors.append(
                entry(
                    anchor=anchors.get(field.name) or field_anchor(field),
                    label=labels.get(field.name) or field.label,
                    message=" ".join(str(e) for e in field.errors),
                )
            )
    for message in form.non_field_errors():
        errors.append(entry(anchor=whole_form_anchor, label=whole_form_label, message=message))
    return errors
