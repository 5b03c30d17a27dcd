"""Shared helpers of the dmfe plotting scripts (plot_run.py, plot_static.py, plot_fig1.py).

Reading a dmfe output file, checking what wrote it, legend labels from its config, axis
labels from the `units` attributes, and a few matplotlib conveniences. Importing this
module selects the non-interactive Agg backend, so no display is needed.
"""

import math
import os
import re
import sys
import tomllib
from dataclasses import dataclass, field

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402,F401  (re-exported for the scripts)
import numpy as np  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

FORMAT = "dmfe-1"
DPI = 120

# Unit names of dmfe files (the `units` attributes) and their mathtext symbols.
_UNIT_SYMBOLS = {"eps": r"\varepsilon", "zeta_hat": r"\hat{\zeta}", "rho": r"\rho"}


class UsageError(Exception):
    """A problem with the user's input (wrong file, unknown key): one line, exit code 2."""


def run_main(main):
    """Runs main() and turns a UsageError into one line on stderr and exit code 2."""
    prog = os.path.basename(sys.argv[0])
    try:
        return main()
    except UsageError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 2


def open_dmfe(path, solver):
    """Opens a dmfe output file read-only after checking its root attributes.

    Raises UsageError when the file cannot be read as HDF5, was not written by dmfe (no
    `dmfe_format` attribute), or was written by another solver than `solver`
    ("dynamics" for `dmfe run`, "static" for `dmfe static`).
    """
    if not os.path.isfile(path):
        raise UsageError(f"{path}: no such file")
    try:
        f = h5py.File(path, "r")
    except OSError:
        raise UsageError(f"{path}: not an HDF5 file (or unreadable)") from None
    fmt = plain(f.attrs.get("dmfe_format"))
    found = plain(f.attrs.get("solver"))
    if fmt is None:
        f.close()
        raise UsageError(f"{path}: not a dmfe output file (no 'dmfe_format' attribute)")
    if found != solver:
        f.close()
        command = {"dynamics": "dmfe run", "static": "dmfe static", "flow": "dmfe flow"}.get(solver, solver)
        raise UsageError(f"{path}: solver = '{found}', but this script plots '{solver}' files "
                         f"(written by `{command}`)")
    if fmt != FORMAT:
        print(f"warning: {path}: dmfe_format = '{fmt}', this script knows '{FORMAT}'", file=sys.stderr)
    return f


@dataclass
class DmfeFile:
    """The contents of one dmfe file: datasets by path, group attributes, legend label."""

    path: str
    data: dict = field(default_factory=dict)    # "group/name" -> numpy array
    units: dict = field(default_factory=dict)   # "group/name" -> units attribute
    dims: dict = field(default_factory=dict)    # "group/name" -> dimension labels
    config: dict = field(default_factory=dict)  # attributes of config/
    summary: dict = field(default_factory=dict)  # attributes of summary/ (static files)
    toml: dict = field(default_factory=dict)    # the root attribute config_toml, parsed
    label: str = ""

    @property
    def stem(self):
        """The file name without directory and extension, e.g. 'sweep_01' for out/sweep_01.h5."""
        return os.path.splitext(os.path.basename(self.path))[0]

    def __getitem__(self, name):
        if name not in self.data:
            raise UsageError(f"{self.path}: dataset '{name}' missing")
        return self.data[name]


def plain(value):
    """An HDF5 attribute as a Python scalar or str (numpy scalars and bytes unwrapped)."""
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, np.generic):
        return value.item()
    return value


def read(path, solver, groups, max_ndim=2):
    """Reads the datasets of `groups` and the config/summary attributes of a dmfe file.

    Datasets with more than `max_ndim` dimensions are skipped (max_ndim=1: no two-time
    kernels, which saves memory when many long runs are overlaid).
    """
    with open_dmfe(path, solver) as f:
        d = DmfeFile(path)
        for g in groups:
            if g not in f:
                raise UsageError(f"{path}: group '{g}' missing")
            for name, ds in f[g].items():
                if ds.ndim > max_ndim:
                    continue
                d.data[f"{g}/{name}"] = ds[()]
                d.dims[f"{g}/{name}"] = [plain(dim.label) for dim in ds.dims]
                d.units[f"{g}/{name}"] = plain(ds.attrs.get("units", ""))
        for g, target in (("config", d.config), ("summary", d.summary)):
            if g in f:
                target.update({k: plain(v) for k, v in f[g].attrs.items()})
        text = plain(f.attrs.get("config_toml", ""))
        try:
            d.toml = tomllib.loads(text) if text else {}
        except tomllib.TOMLDecodeError:
            d.toml = {}
    d.label = d.stem
    return d


def read_static(path):
    """Reads a `dmfe static` file: branch/* datasets, summary and config attributes."""
    return read(path, "static", ["branch"])


def fmt_value(v):
    """A config value for a legend: numbers with 4 significant digits, strings as they are."""
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def _toml_lookup(toml, key):
    """The value of a dotted key ('driving.gamma_dot'), or of a bare key found in exactly one
    table of the config TOML ('gamma_dot'); None when absent or ambiguous."""
    node = toml
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            node = None
            break
        node = node[part]
    if node is not None and not isinstance(node, dict):
        return node
    if "." in key:
        return None
    hits = [t[key] for t in toml.values() if isinstance(t, dict) and key in t]
    return hits[0] if len(hits) == 1 else None


# Keys of [driving] that are not parameters of the strain schedule.
_NOT_SCHEDULE = {"kind", "schedule", "f", "xi", "amplitude"}


def config_label(d, key):
    """The legend label of file `d` for `--label KEY`, or None when the file lacks KEY.

    KEY is an attribute of the file's config/ group (e.g. F, T, phi_hat, schedule) or a
    key of the config TOML it was run with, dotted (driving.gamma_dot) or bare (gamma_dot).
    For `schedule` the schedule's parameters are appended (e.g. "rate, gamma_dot = 0.1"),
    so that a sweep over rates or amplitudes gets distinct labels.
    """
    if key in d.config:
        text = f"{key} = {fmt_value(d.config[key])}"
        if key == "schedule":
            driving = d.toml.get("driving", {})
            params = [f"{k} = {fmt_value(v)}" for k, v in driving.items() if k not in _NOT_SCHEDULE]
            text = ", ".join([fmt_value(d.config[key])] + params)
        return text
    value = _toml_lookup(d.toml, key)
    return None if value is None else f"{key} = {fmt_value(value)}"


def set_labels(files, key):
    """Sets the legend label of every file: its stem, or `--label KEY` from its config.

    Files lacking KEY keep their stem with "(no KEY)"; when two files get the same label,
    every label gets its file's stem appended. A KEY found in none of the files is a
    UsageError naming the config attributes that exist.
    """
    if key is None:
        return
    labels = [config_label(d, key) for d in files]
    if all(lab is None for lab in labels):
        known = ", ".join(sorted(files[0].config))
        raise UsageError(f"--label {key}: no such config attribute or TOML key in any file "
                         f"(config attributes: {known})")
    for d, lab in zip(files, labels):
        d.label = lab if lab is not None else f"{d.stem} (no {key})"
    if len({d.label for d in files}) < len(files):  # equal values: tell the files apart
        for d in files:
            d.label = f"{d.label} ({d.stem})"


def pretty_units(units):
    """A `units` attribute as mathtext: 'eps^2/zeta_hat' -> '$\\varepsilon^2/\\hat{\\zeta}$'.

    Dimensionless ('1' or empty) gives ''.
    """
    if units in ("", "1"):
        return ""
    math_part = re.sub(r"[A-Za-z_]+", lambda m: _UNIT_SYMBOLS.get(m.group(0), m.group(0)), units)
    return "$" + math_part.strip().replace(" ", r"\,") + "$"


def axis_label(symbol, units):
    """An axis label 'symbol [units]' (units as mathtext; no brackets when dimensionless)."""
    u = pretty_units(units)
    return f"{symbol} [{u}]" if u else symbol


def common_config(files, keys):
    """'k1 = v1, k2 = v2' for the config keys whose value is the same in every file."""
    parts = []
    for k in keys:
        values = {fmt_value(d.config[k]) for d in files if k in d.config}
        if len(values) == 1 and all(k in d.config for d in files):
            parts.append(f"{k} = {values.pop()}")
    return ", ".join(parts)


def is_finite(x):
    """True for a finite number (summary attributes use NaN for 'none')."""
    return x is not None and math.isfinite(x)


def style_legend(ax, entries, **kwargs):
    """Adds a second legend explaining line styles / markers, in black, next to the first.

    `entries` is a list of (label, Line2D keyword arguments), e.g.
    [("residual", {"ls": "-"}), ("noise floor", {"ls": ":"})].
    """
    first = ax.get_legend()
    handles = [Line2D([], [], color="k", **kw) for _, kw in entries]
    ax.legend(handles, [lab for lab, _ in entries], **kwargs)
    if first is not None:
        ax.add_artist(first)


def save(fig, path):
    """Saves a figure (tight layout) and prints where it went."""
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    print(f"wrote {path}")
