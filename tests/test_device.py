import pytest

from simple_game.device import resolve_device
from simple_game.errors import SimpleGameError

yes, no = (lambda: True), (lambda: False)


def test_auto_prefers_cuda_then_mps_then_cpu() -> None:
    assert resolve_device("auto", cuda_available=yes, mps_available=yes) == "cuda"
    assert resolve_device("auto", cuda_available=no, mps_available=yes) == "mps"
    assert resolve_device("auto", cuda_available=no, mps_available=no) == "cpu"


def test_explicit_devices() -> None:
    assert resolve_device("cpu", cuda_available=yes) == "cpu"
    assert resolve_device("cuda:1", cuda_available=yes) == "cuda:1"
    assert resolve_device("mps", mps_available=yes) == "mps"


@pytest.mark.parametrize("name", ["cuda", "mps"])
def test_unavailable_explicit_device_is_user_error(name: str) -> None:
    with pytest.raises(SimpleGameError, match=name):
        resolve_device(name, cuda_available=no, mps_available=no)


def test_real_machine_auto() -> None:
    assert resolve_device("auto") in {"cpu", "cuda", "mps"}
