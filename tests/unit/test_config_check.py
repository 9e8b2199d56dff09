"""``dvsum-vpn config check``: every file, every problem, with lines."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from agent import cli, inputs
from agent.errors import InputError
from tests.unit.conftest import PSK1, PSK2

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "aws"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def write_config(tmp_path: Path, *, sample: str, **overrides: str) -> Path:
    aws = tmp_path / "aws-vpn.conf"
    shutil.copy(SAMPLES / sample, aws)
    psk = tmp_path / "psk.yaml"
    psk.write_text(f"203.0.113.44: {PSK1}\n203.0.113.172: {PSK2}\n")
    psk.chmod(0o600)
    settings = {
        "aws_file": str(aws),
        "psk_file": str(psk),
        "customer_cidr": "192.168.10.0/24",
        "primary": "203.0.113.44",
        "source_address": "auto",
    } | overrides
    lines = [f"{key}: {value}" for key, value in settings.items()]
    lines += [
        "dns:",
        "  mode: hosts",
        "  names:",
        "    apis.dvsum.ai: 10.0.151.182",
        "    s3-storage.dvsum.ai: 10.0.150.69",
        "    socket-api.dvsum.ai: 10.0.157.107",
    ]
    path = tmp_path / "config.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_good_setup_is_ok(capsys, tmp_path):
    conf = write_config(tmp_path, sample="00-dvsum-summary-static.txt")
    assert run(capsys, "config", "check", "--config", str(conf)) == (
        0,
        "",
        f"{conf}: ok\n",
    )


def test_config_given_before_the_command_works_too(capsys, tmp_path):
    conf = write_config(tmp_path, sample="00-dvsum-summary-static.txt")
    assert run(capsys, "--config", str(conf), "config", "check")[0] == 0


def test_every_problem_of_every_file_at_once(capsys, tmp_path):
    conf = write_config(
        tmp_path,
        sample="00-dvsum-summary-static.txt",
        landing_zone="10.0.0.0/33",
        primary="203.0.113.99",
        source_address="192.168.20.5",
    )
    aws = tmp_path / "aws-vpn.conf"
    aws.write_text(aws.read_text().replace("169.254.140.5/30", "169.254.141.5/30"))
    (tmp_path / "psk.yaml").write_text(f"203.0.113.44: {PSK1}\n203.0.113.172: 0bad\n")
    code, out, err = run(capsys, "config", "check", "--config", str(conf))
    assert (code, out) == (2, "")
    assert err.splitlines() == [
        f"dvsum-vpn: {conf}: landing_zone (line 6): expected an IPv4 CIDR, got "
        "'10.0.0.0/33'",
        f"dvsum-vpn: {tmp_path}/psk.yaml:2: 203.0.113.172: PSK is 4 characters "
        "long, starts with a zero; AWS requires 8 to 64 letters, digits, '.' and "
        "'_', not starting with a zero",
        f"dvsum-vpn: {aws}: tunnels[1].aws_inside_address (line 53): "
        "169.254.141.5 is not in the customer's 169.254.140.4/30",
    ]
    assert "0bad" not in err


def test_cross_checks_when_each_file_is_fine(capsys, tmp_path):
    conf = write_config(
        tmp_path,
        sample="00-dvsum-summary-static.txt",
        primary="203.0.113.99",
        source_address="192.168.20.5",
        customer_cidr="203.0.113.0/25",
    )
    code, _, err = run(capsys, "config", "check", "--config", str(conf))
    assert code == 2
    assert err.splitlines() == [
        f"dvsum-vpn: {conf}: primary (line 4): 203.0.113.99 is not a tunnel of the "
        "AWS file (203.0.113.44, 203.0.113.172)",
        f"dvsum-vpn: {conf}: source_address (line 5): 192.168.20.5 is outside "
        "customer_cidr 203.0.113.0/25: DvSum routes back only customer_cidr",
        f"dvsum-vpn: {conf}: customer_cidr (line 3): 203.0.113.0/25 holds the AWS "
        "endpoint 203.0.113.44",
    ]


def test_warnings_are_printed_and_do_not_fail(capsys, tmp_path):
    conf = write_config(
        tmp_path, sample="01-xml-static-vgw.xml", primary="198.51.100.37"
    )
    (tmp_path / "psk.yaml").write_text("# the XML has them\n")
    code, _, err = run(capsys, "config", "check", "--config", str(conf))
    assert code == 0
    assert err.splitlines() == [
        f"dvsum-vpn: WARNING: {tmp_path}/aws-vpn.conf: tunnels[0], tunnels[1]: the "
        "file prints DH group 2; dvsum-vpn proposes group 14 (modp2048), as DvSum "
        "requires",
        f"{conf}: ok",
    ]


def test_missing_psks_name_both_files(capsys, tmp_path):
    conf = write_config(tmp_path, sample="00-dvsum-summary-static.txt")
    (tmp_path / "psk.yaml").write_text("")
    _, _, err = run(capsys, "config", "check", "--config", str(conf))
    assert err.splitlines()[0] == (
        f"dvsum-vpn: {tmp_path}/aws-vpn.conf: tunnels[0].psk: no pre-shared key for "
        f"203.0.113.44 here nor in the PSK file {tmp_path}/psk.yaml"
    )


def test_a_broken_config_still_checks_the_files_it_names(capsys, tmp_path):
    conf = write_config(tmp_path, sample="00-dvsum-summary-static.txt")
    conf.write_text(conf.read_text().replace("customer_cidr: 192.168.10.0/24\n", ""))
    (tmp_path / "aws-vpn.conf").write_text("crypto isakmp policy 10\n")
    _, _, err = run(capsys, "config", "check", "--config", str(conf))
    assert err.splitlines() == [
        f"dvsum-vpn: {conf}: customer_cidr: required: an IPv4 CIDR",
        f"dvsum-vpn: {tmp_path}/aws-vpn.conf: this is AWS's script for a Cisco "
        'device; dvsum-vpn reads AWS\'s "Generic / Vendor Agnostic" or '
        '"Strongswan" download, the XML (CustomerGatewayConfiguration) or the JSON '
        "of `aws ec2 describe-vpn-connections`: ask DvSum for one of those",
    ]


def test_missing_files(capsys, tmp_path):
    conf = tmp_path / "config.yaml"
    assert run(capsys, "config", "check", "--config", str(conf)) == (
        2,
        "",
        f"dvsum-vpn: {conf}: no such file; run `dvsum-vpn import` first\n",
    )
    conf = write_config(tmp_path, sample="00-dvsum-summary-static.txt")
    (tmp_path / "aws-vpn.conf").unlink()
    _, _, err = run(capsys, "config", "check", "--config", str(conf))
    assert err == (
        f"dvsum-vpn: {conf}: aws_file (line 1): {tmp_path}/aws-vpn.conf: no such file\n"
    )


@pytest.mark.parametrize("broken", [False, True])
def test_json_report(capsys, tmp_path, broken):
    conf = write_config(tmp_path, sample="02-xml-bgp-vgw.xml", primary="192.0.2.14")
    (tmp_path / "psk.yaml").write_text("# the XML has them\n")
    if broken:
        conf.write_text(conf.read_text().replace("primary: 192.0.2.14", "primary: x"))
    code, out, err = run(capsys, "config", "check", "--config", str(conf), "--json")
    data = json.loads(out)
    assert (code, err, data["ok"]) == ((2, "", False) if broken else (0, "", True))
    assert data["files"] == [
        str(conf), str(tmp_path / "psk.yaml"), str(tmp_path / "aws-vpn.conf")
    ]  # fmt: skip
    assert data["warnings"] == [
        {
            "where": f"{tmp_path}/aws-vpn.conf: routing",
            "message": "the connection uses BGP; dvsum-vpn routes statically and "
            "runs no BGP speaker, so AWS learns no route back to you from it: ask "
            "DvSum for static routing (the guide's default)",
        },
        {
            "where": f"{tmp_path}/aws-vpn.conf: tunnels[0], tunnels[1]",
            "message": "the file prints DH group 2; dvsum-vpn proposes group 14 "
            "(modp2048), as DvSum requires",
        },
    ]
    if broken:
        assert data["errors"] == [
            {
                "where": f"{conf}: primary (line 4)",
                "message": "expected an AWS outside address, got 'x'",
            }
        ]


def test_a_number_of_thousands_of_digits_is_a_problem_not_a_crash(capsys, tmp_path):
    conf = write_config(tmp_path, sample="00-dvsum-summary-static.txt")
    conf.write_text(conf.read_text() + f"landing_zone: {'9' * 5000}\n")
    code, _, err = run(capsys, "config", "check", "--config", str(conf))
    assert code == 2
    assert err.startswith(f"dvsum-vpn: {conf}: not valid YAML: Exceeds the limit")


def test_a_configured_psk_file_that_is_missing_fails(capsys, tmp_path):
    conf = write_config(
        tmp_path, sample="01-xml-static-vgw.xml", primary="198.51.100.37"
    )
    (tmp_path / "psk.yaml").unlink()  # even though the XML has PSKs
    code, _, err = run(capsys, "config", "check", "--config", str(conf))
    assert code == 2
    assert err.splitlines()[-1] == (
        f"dvsum-vpn: {conf}: psk_file (line 2): {tmp_path}/psk.yaml: no such file"
    )


def test_up_refuses_a_missing_psk_file_instead_of_using_the_aws_files(tmp_path):
    conf = write_config(tmp_path, sample="01-xml-static-vgw.xml")
    (tmp_path / "psk.yaml").unlink()
    with pytest.raises(InputError, match=r"^psk_file: .*psk.yaml: no such file$"):
        inputs.load(conf)
