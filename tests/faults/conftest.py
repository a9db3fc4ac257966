"""Fault tests: every test here carries the ``faults`` marker (``make test-faults``)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # `import harness` from the tests
