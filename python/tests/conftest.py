from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture
def root() -> Path:
    return ROOT


@pytest.fixture
def ctx():
    """A fresh stock SessionContext with ltseq registered and 4 target partitions."""
    import datafusion

    import ltseq

    c = datafusion.SessionContext(datafusion.SessionConfig().with_target_partitions(4))
    ltseq.register(c)
    return c
