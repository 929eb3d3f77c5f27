"""Serial and contract numbers in free text, CLI output and form fields.

Precision matters as much as recall: look-alikes (part numbers, MACs, versions, tax and bank numbers, invoices,
orders, GTAC cases, RMAs, device ids, tickets, our own references) are blanked first, distinctive serial shapes are
then believed anywhere, other serials and PartnerWorks contract numbers only after their label.

The serial, contract and CLI label searches all read the masked text: one LabelGroup scan finds where any of their
labels may begin, instead of a pass per search.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from parsers import cli_logs
from parsers.cli_logs import serial_candidates_in_cli_output
from parsers.identifiers import labels
from parsers.identifiers.fields import identifiers_in_field
from parsers.identifiers.labels import (
    hezo_contracts,
    is_other_makers_serial,
    labelled_contracts,
    labelled_serials,
    psu_serials,
    unlabelled_serials,
)
from parsers.identifiers.lookalikes import MaskedText, mask_lookalikes, masked_lookalikes
from parsers.identifiers.shapes import is_labelled_serial, is_shared_with_other_makers
from parsers.wordscan import LabelGroup

__all__ = ["Identifiers", "MaskedText", "extract_identifiers", "mask_lookalikes", "masked_lookalikes"]


@dataclass(frozen=True)
class Identifiers:
    """Normalised (upper case, no label), de-duplicated, in order of first appearance."""

    serial_numbers: tuple[str, ...] = ()
    contract_numbers: tuple[str, ...] = ()


_MASKED_TEXT_LABELS = LabelGroup((*labels.LABEL_SEARCHES, *cli_logs.LABEL_SEARCHES))


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def _given_as_another_makers(value: str, masked: str) -> bool:
    """`value` stands in `masked` (case aside), each time as another maker's serial."""
    if not is_shared_with_other_makers(value):
        return False
    positions = [match.start() for match in re.finditer(re.escape(value), masked, re.IGNORECASE)]
    return bool(positions) and all(is_other_makers_serial(masked, at, masked[at : at + len(value)]) for at in positions)


def extract_identifiers(
    text: str,
    *,
    serial_fields: Sequence[str] = (),
    contract_fields: Sequence[str] = (),
    lookalikes: MaskedText | None = None,
) -> Identifiers:
    """Identifiers in form fields (first, each value classified by its shape) and then in `text`.

    `lookalikes`: masked_lookalikes(text), when the caller has it already.
    """
    from_serial_fields = [identifiers_in_field(field) for field in serial_fields]
    from_contract_fields = [identifiers_in_field(field) for field in contract_fields]
    # Each field's own kind first: a contract typed into the serial field ranks after the contract field's values.
    serials = [value for found, _ in (*from_serial_fields, *from_contract_fields) for value in found]
    contracts = [value for _, found in (*from_contract_fields, *from_serial_fields) for value in found]
    if lookalikes is None or lookalikes.text != text:
        lookalikes = masked_lookalikes(text)
    masked = lookalikes.masked
    # A field may hold another maker's serial that the text explains ("w polu wpisałem numer sąsiedniego HPE Aruba
    # 2930F (CN0BKP62MX)"): a value the text gives only as another maker's is not taken from the field either.
    serials = [value for value in serials if not _given_as_another_makers(value, masked)]
    scan = _MASKED_TEXT_LABELS.scan(masked)
    from_cli = [
        (at, value.upper())
        for at, value in serial_candidates_in_cli_output(masked, scan)
        if is_labelled_serial(value) and not is_other_makers_serial(masked, at, value)
    ]
    layout = lookalikes.text
    in_text = unlabelled_serials(masked) + labelled_serials(masked, scan, layout) + psu_serials(masked, scan) + from_cli
    serials += [value for _, value in sorted(in_text)]
    contracts += [value for _, value in sorted(hezo_contracts(masked) + labelled_contracts(masked, scan, layout))]
    return Identifiers(_unique(serials), _unique(contracts))
