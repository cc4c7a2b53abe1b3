"""Server start: `make run` listens on this machine only unless ADDRESS opens it,
and the server makes no outbound call (no external-IP lookup)."""

import os
import subprocess
from pathlib import Path

from tests.conftest import streamlit_server

ROOT = Path(__file__).resolve().parents[2]


def test_make_run_listens_on_localhost_unless_address_is_given():
    out = subprocess.run(["make", "-n", "run"], cwd=ROOT, capture_output=True, text=True).stdout
    assert "--server.address 127.0.0.1" in out
    out = subprocess.run(["make", "-n", "run", "ADDRESS=0.0.0.0"], cwd=ROOT, capture_output=True, text=True).stdout
    assert "--server.address 0.0.0.0" in out


def test_the_server_never_looks_up_its_external_ip(tmp_path):
    hook = tmp_path / "hook"
    hook.mkdir()
    marker = tmp_path / "looked_up"
    (hook / "sitecustomize.py").write_text(
        "import streamlit.net_util as n\n"
        "def _spy(*a, **k):\n"
        f"    open({str(marker)!r}, 'w').write('called')\n"
        "    return None\n"
        "n.get_external_ip = _spy\n")
    env = {"PYTHONPATH": os.pathsep.join([str(hook), str(ROOT)]), "L2L_WARMUP": "0"}
    with streamlit_server(tmp_path / "server.log", **env) as (url, _):
        import urllib.request

        # A request from another origin is where Streamlit would look the IP up lazily.
        req = urllib.request.Request(f"{url}/_stcore/health", headers={"Origin": "http://elsewhere.example"})
        urllib.request.urlopen(req, timeout=30).read()
    assert not marker.exists(), (tmp_path / "server.log").read_text()[-2000:]
