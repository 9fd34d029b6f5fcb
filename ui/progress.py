"""A progress bar on the terminal for ingest: pages/s and time left."""

from __future__ import annotations

import sys


class Progress:
    def __init__(self, enabled: bool):
        self.bar = None
        self.files = 0
        if enabled:
            from tqdm import tqdm

            self.bar = tqdm(total=0, unit="page", dynamic_ncols=True, file=sys.stderr,
                            bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} pages [{elapsed}<{remaining}, {rate_fmt}]{postfix}")

    def page(self, _task, count: int) -> None:
        """count > 0: pages finished; count < 0: pages newly planned."""
        if self.bar is None:
            return
        if count < 0:
            self.bar.total += -count
            self.bar.refresh()
        else:
            self.bar.update(count)

    def file_done(self) -> None:
        self.files += 1
        if self.bar is not None:
            self.bar.set_postfix_str(f"{self.files} files", refresh=False)

    def write(self, line: str) -> None:
        if self.bar is not None:
            self.bar.write(line, file=sys.stderr)
        else:
            print(line, file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
