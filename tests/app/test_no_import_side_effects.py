"""Importing a page helper changes nothing in the process: no GIL switch interval,
no threads, no Streamlit routing flag, no rerun (the set-up is app_setup.py's,
called once from app.py)."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CODE = """
import json, sys, threading
from streamlit.runtime.pages_manager import PagesManager
before = (sys.getswitchinterval(), threading.active_count(), PagesManager.uses_pages_directory)
import gc
frozen = gc.get_freeze_count()
import ui.shared, ui.adapter, ui.outer_panel
import time; time.sleep(0.5)
after = (sys.getswitchinterval(), threading.active_count(), PagesManager.uses_pages_directory)
print(json.dumps([before, after, frozen, gc.get_freeze_count()]))
"""


def test_importing_page_helpers_has_no_side_effects():
    res = subprocess.run([sys.executable, "-c", CODE], cwd=ROOT, capture_output=True, text=True, timeout=300,
                         env={"PATH": "/usr/bin:/bin", "JAX_PLATFORMS": "cpu", "PYTHONPATH": str(ROOT)})
    assert res.returncode == 0, res.stderr[-2000:]
    before, after, frozen_before, frozen_after = json.loads(res.stdout.strip().splitlines()[-1])
    assert before == after
    assert frozen_after == frozen_before


def test_server_setup_runs_once_and_preloads_what_pages_need():
    code = ("import sys, app_setup\n"
            "assert 'pandas' not in sys.modules\n"
            "t = app_setup.start_server(warm=False)\n"
            "assert t is None and app_setup.start_server(warm=False) is None\n"
            "import gc\n"
            "print(all(m in sys.modules for m in ('pandas', 'plotly.graph_objects', 'l2l_core.landscape')),"
            " gc.get_freeze_count() > 10000)\n")
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300,
                         env={"PATH": "/usr/bin:/bin", "JAX_PLATFORMS": "cpu", "PYTHONPATH": str(ROOT),
                              "L2L_JAX_CACHE": "0"})
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.split() == ["True", "True"]
