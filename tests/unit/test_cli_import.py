"""``dvsum-vpn import``: the JSON contract, bad input, nothing written."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from agent import cli, importer
from agent.config import Paths

# Copies of shared/samples/aws: synthetic files in AWS's real layouts.
SAMPLES = Path(__file__).resolve().parents[1] / "data" / "aws"

CONNECTION_01 = {
    "vpn_connection_id": "vpn-63395b99bbb5f9676",
    "routing": "static",
    "customer_asn": None,
    "tunnels": [
        {
            "aws_outside_address": "198.51.100.37",
            "customer_outside_address": "203.0.113.25",
            "customer_inside_cidr": "169.254.88.2/30",
            "aws_inside_address": "169.254.88.1",
            "aws_asn": None,
            "bgp_hold_time": None,
            "psk_present": True,
        },
        {
            "aws_outside_address": "198.51.100.201",
            "customer_outside_address": "203.0.113.25",
            "customer_inside_cidr": "169.254.123.230/30",
            "aws_inside_address": "169.254.123.229",
            "aws_asn": None,
            "bgp_hold_time": None,
            "psk_present": True,
        },
    ],
}


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def conf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # A config.yaml that import creates names the default charon drop-in
    # path; keep that write inside the test's tree.
    dropin = tmp_path / "strongswan.d" / "dvsum-vpn.conf"
    monkeypatch.setattr(importer, "Paths", lambda: Paths(charon_dropin=dropin))
    return tmp_path / "etc" / "config.yaml"


@pytest.mark.parametrize(
    "sample", ["01-xml-static-vgw.xml", "04-generic-ikev2-static-vgw.txt"]
)
def test_xml_and_generic_give_the_same_json(capsys, conf, sample):
    code, out, _ = run(
        capsys, "--config", str(conf), "import", str(SAMPLES / sample),
        "--dry-run", "--json",
    )  # fmt: skip
    assert code == 0
    assert json.loads(out) == CONNECTION_01
    assert not conf.parent.exists()


def test_bgp_sample_json(capsys, conf):
    code, out, _ = run(
        capsys, "--config", str(conf), "import",
        str(SAMPLES / "02-xml-bgp-vgw.xml"), "--dry-run", "--json",
    )  # fmt: skip
    assert code == 0
    data = json.loads(out)
    assert (data["routing"], data["customer_asn"]) == ("bgp", 65000)
    assert [
        (t["aws_outside_address"], t["aws_asn"], t["bgp_hold_time"])
        for t in data["tunnels"]
    ] == [("192.0.2.14", 64512, 30), ("192.0.2.238", 64512, 30)]


def test_summary_without_psks_is_refused_naming_both_fields(capsys, conf):
    code, out, err = run(
        capsys, "--config", str(conf), "import",
        str(SAMPLES / "00-dvsum-summary-static.txt"), "--customer-cidr",
        "192.168.10.0/24",
    )  # fmt: skip
    assert (code, out) == (2, "")
    assert err.splitlines() == [
        "dvsum-vpn: tunnels[0].psk: no pre-shared key for 203.0.113.44 in the "
        "file; give it with --psk-file",
        "dvsum-vpn: tunnels[1].psk: no pre-shared key for 203.0.113.172 in the "
        "file; give it with --psk-file",
    ]
    assert not conf.parent.exists()


def test_summary_with_psk_file_writes_0600_files(capsys, conf, tmp_path):
    psk1, psk2 = "Xq3v_L9.tPzR7wK2mN5bH8cJ", "fT6y.Hn2Wq8_Ls4Dk9Rv3Mz1"
    psks = tmp_path / "psk.txt"
    psks.write_text(f"203.0.113.44: {psk1}\n203.0.113.172: {psk2}\n")
    psks.chmod(0o600)
    code, out, err = run(
        capsys, "--config", str(conf), "import",
        str(SAMPLES / "00-dvsum-summary-static.txt"), "--psk-file", str(psks),
        "--customer-cidr", "192.168.10.0/24", "--json",
    )  # fmt: skip
    assert code == 0
    assert psk1 not in out + err and psk2 not in out + err
    assert sorted(p.name for p in conf.parent.iterdir()) == [
        "aws-vpn.conf", "config.yaml", "psk.yaml",
    ]  # fmt: skip
    for path in conf.parent.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    dropin = tmp_path / "strongswan.d" / "dvsum-vpn.conf"
    assert stat.S_IMODE(dropin.stat().st_mode) == 0o644
    config = conf.read_text()
    assert "customer_cidr: 192.168.10.0/24\n" in config
    assert "primary: 203.0.113.44\n" in config
    code, _, err = run(capsys, "--config", str(conf), "config", "check")
    assert (code, err) == (0, f"{conf}: ok\n")


def test_bad_psk_is_named_without_echoing_it(capsys, conf, tmp_path):
    psks = tmp_path / "psk.txt"
    psks.write_text(
        "203.0.113.44: 0badkey-x\n203.0.113.172: fT6y.Hn2Wq8_Ls4Dk9Rv3Mz1\n"
    )
    code, out, err = run(
        capsys, "--config", str(conf), "import",
        str(SAMPLES / "00-dvsum-summary-static.txt"), "--psk-file", str(psks),
    )  # fmt: skip
    assert code == 2
    assert "0badkey" not in out + err
    assert "psk" in err
    assert not conf.parent.exists()


def test_truncated_file_is_refused_and_nothing_written(capsys, conf, tmp_path):
    text = (SAMPLES / "01-xml-static-vgw.xml").read_text()
    cut = tmp_path / "cut.xml"
    cut.write_text(text[: len(text) // 2])
    code, out, err = run(capsys, "--config", str(conf), "import", str(cut))
    assert (code, out) == (2, "")
    assert len(err.splitlines()) >= 1
    assert not conf.parent.exists()


def test_missing_file_is_a_one_line_error(capsys, conf, tmp_path):
    code, _, err = run(capsys, "--config", str(conf), "import", str(tmp_path / "no"))
    assert (code, err) == (2, f"dvsum-vpn: FILE: {tmp_path / 'no'}: no such file\n")


def test_a_broken_config_stops_import_naming_the_line(capsys, conf):
    conf.parent.mkdir(parents=True)
    conf.write_text("aws_file: /x\n  bad: [\n")
    before = sorted(conf.parent.iterdir())
    code, out, err = run(
        capsys, "--config", str(conf), "import",
        str(SAMPLES / "01-xml-static-vgw.xml"),
    )  # fmt: skip
    assert (code, out) == (2, "")
    assert f"dvsum-vpn: {conf}: not valid YAML: line 2: " in err
    assert sorted(conf.parent.iterdir()) == before


@pytest.mark.parametrize("aws_before", [None, "the previous AWS file\n"])
def test_a_failed_psk_write_puts_the_aws_file_back(capsys, conf, tmp_path, aws_before):
    psks = tmp_path / "psk.txt"
    psks.write_text(
        "203.0.113.44: Xq3v_L9.tPzR7wK2mN5bH8cJ\n"
        "203.0.113.172: fT6y.Hn2Wq8_Ls4Dk9Rv3Mz1\n"
    )
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    aws = tmp_path / "aws-vpn.conf"
    if aws_before is not None:
        aws.write_text(aws_before)
        aws.chmod(0o640)
    conf.parent.mkdir()
    conf.write_text(f"aws_file: {aws}\npsk_file: {blocker}/psk.yaml\n")
    code, _, err = run(
        capsys, "--config", str(conf), "import",
        str(SAMPLES / "00-dvsum-summary-static.txt"), "--psk-file", str(psks),
    )  # fmt: skip
    assert code == 2
    assert err.splitlines()[-1] == (
        f"dvsum-vpn: psk_file: {blocker}/psk.yaml: cannot be created there: "
        "Not a directory"
    )
    if aws_before is None:
        assert not aws.exists()
    else:
        assert aws.read_text() == aws_before
        assert stat.S_IMODE(aws.stat().st_mode) == 0o640
