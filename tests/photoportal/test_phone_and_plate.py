import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from autoservice.phones import format_phone, normalize_phone
from autoservice.plates import normalize_plate


@pytest.mark.parametrize(
    "raw",
    ["8 (912) 345-67-89", "+7 912 345 67 89", "89123456789", "9123456789", "+7(912)3456789"],
)
def test_russian_numbers_are_normalised(raw):
    assert normalize_phone(raw) == "+79123456789"


@pytest.mark.parametrize(
    "raw", ["", "12345", "+1 212 555 0100", "8 (112) 345-67-89", "9123456789x"]
)
def test_bad_numbers_are_refused_in_russian(raw):
    with pytest.raises(ValidationError) as excinfo:
        normalize_phone(raw)
    assert "Проверьте номер" in str(excinfo.value)


@given(st.text(alphabet="0123456789", min_size=10, max_size=10).filter(lambda d: d[0] in "3489"))
def test_any_ten_digits_roundtrip(digits):
    phone = normalize_phone("8" + digits)
    assert phone == "+7" + digits
    assert normalize_phone(format_phone(phone)) == phone


@pytest.mark.parametrize(
    ("raw", "plate"),
    [("a123bc77", "А123ВС77"), ("А 123 ВС 777", "А123ВС777"), ("ху123 77", "ХУ12377")],
)
def test_plates_are_normalised_to_cyrillic(raw, plate):
    assert normalize_plate(raw) == plate


def test_a_plate_with_letters_not_used_in_russia_is_refused():
    with pytest.raises(ValidationError):
        normalize_plate("Ж123ЖЖ77")
