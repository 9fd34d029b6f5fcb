"""The web server's Host check and headers (ui/guard.py) and the settings every run uses
(ui/.streamlit/config.toml). The running server is tested in test_ui_browser.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO
from ui import guard


def test_allowed_hosts_follow_the_address():
    assert guard.allowed_hosts("127.0.0.1") == ["localhost", "127.0.0.1", "::1"]
    assert guard.allowed_hosts("192.168.1.5") == ["localhost", "127.0.0.1", "::1", "192.168.1.5"]
    # a wildcard address says nothing about the names browsers use: only those given count
    assert guard.allowed_hosts("0.0.0.0", ["Archive.LAN."]) == ["localhost", "127.0.0.1", "::1", "archive.lan"]


@pytest.mark.parametrize("header,ok", [
    ("127.0.0.1:8501", True), ("localhost", True), ("LocalHost.:8501", True), ("[::1]:8501", True),
    ("archive.lan:8501", True), ("a.example.org", True),
    ("evil.example", False), ("127.0.0.1.evil.example", False), ("localhost.evil.example:8501", False),
    ("example.org", False), ("user@127.0.0.1", False), ("127.0.0.1:8501/path", False),
    ("127.0.0.1:99999", False), ("127.0.0.1:port", False), ("", False), (None, False),
])
def test_host_header_check(header, ok):
    allowed = guard.allowed_hosts("127.0.0.1", ["archive.lan", "*.example.org"])
    assert guard.host_allowed(header, allowed) is ok


def test_inline_scripts_are_allowed_by_hash_only():
    html = '<script>window.x = 1</script><script type="module" src="./a.js"></script>'
    hashes = guard.inline_script_hashes(html)
    assert len(hashes) == 1 and hashes[0].startswith("'sha256-")
    policy = guard.content_security_policy(hashes)
    assert "frame-ancestors 'none'" in policy and "'unsafe-inline'" not in policy.split("style-src")[0]


def test_every_server_run_reads_the_workbench_settings(tmp_path):
    """Streamlit reads ui/.streamlit/config.toml for any script in ui/, from any working folder,
    so usage statistics stay off without `sanad ui`'s flags too."""
    code = ("import json, sys; from streamlit import config; config._main_script_path = sys.argv[1];"
            "config.get_config_options(force_reparse=True);"
            "print(json.dumps({k: config.get_option(k) for k in ('browser.gatherUsageStats', 'server.allowedHosts',"
            " 'server.enableXsrfProtection', 'server.enableCORS', 'server.maxUploadSize')}))")
    out = subprocess.run([sys.executable, "-c", code, str(REPO / "ui" / "serve.py")], cwd=tmp_path,
                         capture_output=True, text=True, check=True,
                         env={k: v for k, v in os.environ.items() if not k.startswith("STREAMLIT_")})
    settings = json.loads(out.stdout.strip().splitlines()[-1])
    assert settings == {"browser.gatherUsageStats": False, "server.allowedHosts": ["localhost", "127.0.0.1", "::1"],
                        "server.enableXsrfProtection": True, "server.enableCORS": True, "server.maxUploadSize": 200}
