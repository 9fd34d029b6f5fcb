"""Moved to ingest/letters.py (ui/demo.py renders its demo scans with it, and ui may not import
bench). Kept so that `python -m bench.letters` and older imports still work."""

from ingest.letters import *  # noqa: F401,F403
from ingest.letters import main

if __name__ == "__main__":
    main()
