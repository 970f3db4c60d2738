"""Run every flow under every fault and print the matrix as a Markdown table.

python bench/fault_matrix.py > /tmp/matrix.md
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from tui_connector.simulator.fault_matrix import FAULTS, FLOWS, markdown, run_cell


def main() -> None:
    cells = []
    with tempfile.TemporaryDirectory() as folder:
        for flow in FLOWS:
            for fault in FAULTS:
                cells.append(run_cell(flow, fault, Path(folder)))
    print(markdown(cells))
    bad = [c for c in cells if not c.ok]
    done = len(cells) - len(bad)
    print(f"\n{done} of {len(cells)} cells end with the work done and no duplicate")


if __name__ == "__main__":
    main()
