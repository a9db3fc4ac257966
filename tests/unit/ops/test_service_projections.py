"""Every service's read models are found by the operator commands (``serambi projections``),
wherever the service keeps them: a rebuild that finds none would silently do nothing."""

from __future__ import annotations

import pytest
from serambi_ops.services import SERVICES


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_the_operator_commands_find_each_services_projections(name):
    projections = SERVICES[name].projections()
    assert projections, name
    assert all(projection.collection for projection in projections)
