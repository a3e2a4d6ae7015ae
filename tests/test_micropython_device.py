"""Properties that only the real MicroPython runtime can show: allocation and heap bounds."""
import pytest

from conftest import run_micropython


@pytest.mark.micropython
def test_per_byte_decode_path_allocates_nothing():
    out = run_micropython(module="mp_heaplock")
    assert "heaplock ok" in out


@pytest.mark.micropython
def test_decoder_survives_100000_fuzzed_inputs_on_a_64k_heap():
    out = run_micropython(module="mp_fuzz", args=("100000",), timeout=900)
    assert "fuzz ok: 100000 inputs" in out
