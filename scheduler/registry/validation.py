"""Checks on what entities type, shared by the forms and the services (Italian messages)."""

from __future__ import annotations

import re

from stdnum import exceptions as stdnum_errors
from stdnum.it import codicefiscale, iva

from scheduler.textutil import clean_line


class InvalidValue(ValueError):
    """A value that cannot be accepted; the message is for the person who typed it."""


def normalise_codice_fiscale(value: str) -> str:
    """Upper case, without spaces, dots or dashes: the form in which codici fiscali are compared."""
    return re.sub(r"[\s.\-]", "", value or "").upper()


def check_codice_fiscale(value: str) -> str:
    """The entity's codice fiscale: 11 digits with check digit, or 16 characters (python-stdnum)."""
    number = normalise_codice_fiscale(value)
    if not number:
        raise InvalidValue("Indica il codice fiscale dell'ente.")
    if len(number) not in (11, 16):
        raise InvalidValue(
            f"Il codice fiscale dell'ente ha 11 cifre (o 16 caratteri): ne hai scritti {len(number)}."
        )
    if len(number) == 11 and not number.isdigit():
        raise InvalidValue("Il codice fiscale di 11 caratteri contiene solo cifre.")
    try:
        return codicefiscale.validate(number)
    except stdnum_errors.InvalidChecksum:
        raise InvalidValue("Il codice fiscale non è valido: il carattere di controllo non corrisponde.") from None
    except stdnum_errors.ValidationError:
        raise InvalidValue("Il codice fiscale non è valido: controlla di averlo copiato per intero.") from None


def check_partita_iva(value: str) -> str | None:
    number = re.sub(r"[\s.\-]", "", value or "").upper().removeprefix("IT")
    if not number:
        return None
    try:
        return iva.validate(number)
    except stdnum_errors.InvalidLength:
        raise InvalidValue("La partita IVA ha 11 cifre.") from None
    except stdnum_errors.ValidationError:
        raise InvalidValue("La partita IVA non è valida: controlla le cifre.") from None


def normalise_website(value: str | None) -> str | None:
    value = clean_line(value)
    if not value:
        return None
    if not re.match(r"^https?://", value, re.IGNORECASE):
        value = "https://" + value
    if not re.match(r"^https?://[^\s/$.?#][^\s<>\"']*\.[^\s<>\"']+$", value, re.IGNORECASE):
        raise InvalidValue("Indica l'indirizzo del sito, ad esempio https://www.esempio.it")
    return value
