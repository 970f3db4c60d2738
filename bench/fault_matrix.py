"""Run every flow under every fault and print the matrix as a Markdown table, next to the
same cells run by a naive client (no retry).

python bench/fault_matrix.py > /tmp/matrix.md
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from tui_connector.simulator.fault_matrix import FAULTS, FLOWS, markdown, run_cell


def main() -> None:
    cells, naive = [], []
    with tempfile.TemporaryDirectory() as folder:
        for flow in FLOWS:
            for fault in FAULTS:
                cells.append(run_cell(flow, fault, Path(folder)))
                naive.append(run_cell(flow, fault, Path(folder), retries=0))
    print(markdown(cells, naive))
    for name, found in (("connector", cells), ("naive client", naive)):
        done = sum(c.ok for c in found)
        completes = sum(c.first_run.startswith("completes") for c in found)
        print(
            f"\n{name}: {completes} of {len(found)} runs complete under the fault; "
            f"{done} of {len(found)} cells end with the work done and no duplicate"
        )


if __name__ == "__main__":
    main()
