"""Start Streamlit's server with the dashboard's libraries already imported.

    python -m simple_game.dashboard.serve run src/simple_game/dashboard/app.py [streamlit options] -- ...

Streamlit runs ``app.py`` only when a browser connects, so without this the first page waits
for pandas, altair and the dashboard's own modules to import (1-2 s on a laptop, more on a busy
machine) on top of reading the runs. Importing them here, while the server starts and before
anyone is waiting, moves that cost to start-up; the script then finds them in ``sys.modules``.
Only modules without ``st.cache_data`` functions are preloaded: those must be defined once
Streamlit's runtime exists, or they warn and check their cache against the wrong storage.
The rest is Streamlit's own command line (``streamlit run ...``), unchanged.
"""

from __future__ import annotations

import importlib
import sys
from typing import Optional

from streamlit.web import cli

PRELOAD = (
    "pandas",
    "altair",
    "simple_game.config",
    "simple_game.runs",
    "simple_game.stats",
    "simple_game.dashboard.comparison",
    "simple_game.dashboard.runlist",
    "simple_game.dataset.reader",
)


def main(argv: Optional[list[str]] = None) -> None:
    for name in PRELOAD:
        importlib.import_module(name)
    cli.main(args=list(sys.argv[1:] if argv is None else argv), prog_name="streamlit")


if __name__ == "__main__":
    main()
