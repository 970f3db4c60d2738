"""The fault matrix: every flow, every fault: done or stopped clearly, and a clean re-run
finishes the work without a duplicate."""

from __future__ import annotations

import pytest

from tui_connector.simulator.fault_matrix import FAULTS, FLOWS, run_cell


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("flow", FLOWS)
def test_cell(flow, fault, tmp_path):
    cell = run_cell(flow, fault, tmp_path)
    assert (
        cell.first_run.startswith(("completes", "stops", "0 done", "1 done"))
        or "failed rows" in cell.first_run
    ), cell
    assert cell.rerun == "nothing left to do", cell
    assert cell.duplicates == 0, cell
