"""The server settings that matter for a shared deployment stay as shipped."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_streamlit_config_keeps_protections_on():
    cfg = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    server = cfg["server"]
    assert server["enableXsrfProtection"] is True
    assert server["enableCORS"] is True
    assert cfg["browser"]["gatherUsageStats"] is False
    assert server["maxUploadSize"] <= 5  # MiB; the app takes no big uploads
    assert server.get("runOnSave", False) is False
    assert server.get("headless", False) is True


def test_core_never_imports_streamlit_or_evaluates_text():
    paths = sorted((ROOT / "l2l_core").rglob("*.py"))
    assert len(paths) > 50 and any(p.parent.name == "learned" for p in paths)  # every subpackage
    for path in paths:
        text = path.read_text()
        assert "import streamlit" not in text and "from streamlit" not in text, path
        for banned in (r"(?<![\w.])eval\(", r"(?<![\w.])exec\(", r"import pickle", r"from pickle",
                       r"sympify", r"parse_expr", r"(?<![\w.])compile\("):
            assert not re.search(banned, text), (path, banned)
