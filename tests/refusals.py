"""What every refusal on the command line must look like: exit status 2, one error line, no traceback, and
nothing in the folder touched."""

import os
import stat
from pathlib import Path

from toolkit.cli import main


def refused(argv, capsys) -> str:
    """The one error line of a refused command line (argparse's own errors come after its usage lines)."""
    try:
        code = main(argv)
    except SystemExit as e:
        code = e.code
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err, err
    lines = [line for line in err.strip().splitlines() if "error:" in line]
    assert len(lines) == 1, err
    return lines[0]


def snapshot(folder: Path) -> dict:
    """Every entry under the folder: its kind and, for regular files, its bytes (FIFOs are not opened)."""
    out = {}
    for p in sorted(folder.rglob("*")):
        st = p.lstat()
        kind = (stat.S_IFMT(st.st_mode), os.readlink(p) if p.is_symlink() else None)
        out[p.relative_to(folder)] = p.read_bytes() if stat.S_ISREG(st.st_mode) else kind
    return out
