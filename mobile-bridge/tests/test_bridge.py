#!/usr/bin/env python3
"""Drives the generated Python bindings of the mobile bridge (`mobile-bridge/README.md` §Tests).

Run through `mobile-bridge/tests/run_python.sh`, which builds the library, generates
`dobush_mobile_bridge.py` next to a copy of it and puts that directory on PYTHONPATH.
Plain python3, no test framework: prints "N passed, M failed" and exits non-zero on a failure.
"""

import json
import sys
import traceback
from pathlib import Path

import dobush_mobile_bridge as bridge
from dobush_mobile_bridge import BridgeError

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"
VECTORS = HERE.parent.parent / "vectors" / "ballots-pilot.json"

PACKAGE_JSON = (FIXTURES / "pilot-package.json").read_text()
RECEIPT_JSON = (FIXTURES / "pilot-receipt.json").read_text()
PILOT = json.loads(VECTORS.read_text())


def plaintext(council, yes):
    """A vote for council candidate `council` (0-based) and yes/no on the question."""
    marks = [0] * 9
    marks[council] = 1
    return {
        "style": "samarkandek",
        "contests": [
            {"contest_id": "council", "selections": marks},
            {"contest_id": "question", "selections": [1, 0] if yes else [0, 1]},
        ],
    }


def expect_error(kind, fn, *args):
    try:
        fn(*args)
    except kind as e:
        assert isinstance(e, BridgeError), f"{type(e)} is not a BridgeError"
        return e
    raise AssertionError(f"expected {kind.__name__}")


def test_versions():
    assert bridge.bridge_version() == "0.1.0"
    assert bridge.record_version() == "dobush-record/2"


def test_load_election():
    e = bridge.Election.load(PACKAGE_JSON)
    assert e.extended_hash_hex() == PILOT["election"]["extended_hash"]
    assert e.base_hash_hex() == PILOT["election"]["base_hash"]
    assert e.campaign_id() == "samarkandek-2023"
    styles = e.ballot_styles()
    assert [(s.id, s.contest_ids) for s in styles] == [("samarkandek", ["council", "question"])]
    manifest = json.loads(e.manifest_json())
    assert manifest == PILOT["election"]["manifest"]
    assert bridge.Election.load_pinned(PACKAGE_JSON, e.extended_hash_hex()).campaign_id() == "samarkandek-2023"


def test_tampered_package_is_rejected():
    package = json.loads(PACKAGE_JSON)
    h = bytearray.fromhex(package["extended_hash"])
    h[0] ^= 1
    package["extended_hash"] = h.hex()
    err = expect_error(BridgeError.PackageRejected, bridge.Election.load, json.dumps(package))
    assert "extended hash" in str(err), str(err)

    package = json.loads(PACKAGE_JSON)
    package["manifest"]["contests"][0]["options"][0]["name"]["ky"] = "Башка"
    expect_error(BridgeError.PackageRejected, bridge.Election.load, json.dumps(package))

    other = "00" * 32
    expect_error(BridgeError.PackageRejected, bridge.Election.load_pinned, PACKAGE_JSON, other)
    expect_error(BridgeError.InvalidInput, bridge.Election.load, "not json")


def test_credentials():
    c = bridge.new_credential()
    code = c.recovery_code()
    assert len(code) == 36 and code.count("-") == 7, code
    back = bridge.restore_credential(code.lower().replace("-", " "))
    assert back.public_hex() == c.public_hex()
    assert back.fingerprint() == c.fingerprint()

    vector = PILOT["ballots"][0]["credential"]
    restored = bridge.restore_credential(vector["recovery_code"])
    assert restored.public_hex() == vector["public"]
    assert restored.fingerprint() == vector["fingerprint"]

    expect_error(BridgeError.InvalidRecoveryCode, bridge.restore_credential, "0000-0000")
    expect_error(BridgeError.InvalidRecoveryCode, bridge.restore_credential, code[:-1])


def test_challenge_then_cast():
    election = bridge.Election.load(PACKAGE_JSON)
    cred = bridge.new_credential()
    choice = plaintext(3, False)

    checked = election.encrypt(cred, json.dumps(choice))
    code = checked.tracking_code_short()
    assert len(code) == 19 and len(checked.tracking_code_hex()) == 64
    assert json.loads(checked.ballot_json())["credential"] == cred.public_hex()
    opening = checked.challenge()
    assert checked.is_challenged()
    err = expect_error(BridgeError.BallotChallenged, checked.cast_json)
    assert "can never be cast" in str(err)

    # A second device: its own Election from the same package.
    second = bridge.Election.load(PACKAGE_JSON)
    result = second.verify_challenged(checked.ballot_json(), opening)
    assert result.tracking_code.short == code
    assert json.loads(result.plaintext_json) == choice

    # A forged opening (other marks) is caught.
    forged = json.loads(opening)
    forged["contests"][0][3]["mark"], forged["contests"][0][4]["mark"] = 0, 1
    expect_error(BridgeError.OpeningMismatch, second.verify_challenged, checked.ballot_json(), json.dumps(forged))

    # Encrypt again and cast.
    ballot = election.encrypt(cred, json.dumps(choice))
    assert ballot.tracking_code_hex() != checked.tracking_code_hex()
    sent = ballot.cast_json()
    assert sent == ballot.ballot_json() and ballot.is_cast()
    expect_error(BridgeError.BallotCast, ballot.challenge)
    assert ballot.cast_json() == sent


def test_invalid_plaintext():
    election = bridge.Election.load(PACKAGE_JSON)
    bad = plaintext(0, True)
    bad["contests"][0]["selections"][1] = 1
    expect_error(BridgeError.InvalidBallot, election.encrypt, bridge.new_credential(), json.dumps(bad))


def test_receipt():
    election = bridge.Election.load(PACKAGE_JSON)
    r = election.verify_receipt(RECEIPT_JSON)
    assert r.tracking_code.hex == PILOT["ballots"][1]["tracking_code"]
    assert r.tracking_code.short == PILOT["ballots"][1]["tracking_code_short"]
    assert (r.index, r.tree_size) == (2, 4)

    tampered = json.loads(RECEIPT_JSON)
    tampered["index"] = 1
    expect_error(BridgeError.ReceiptRejected, election.verify_receipt, json.dumps(tampered))
    tampered = json.loads(RECEIPT_JSON)
    tampered["tree_head"]["timestamp_ms"] += 1
    expect_error(BridgeError.ReceiptRejected, election.verify_receipt, json.dumps(tampered))


def main():
    tests = [(name, fn) for name, fn in globals().items() if name.startswith("test_") and callable(fn)]
    passed = failed = 0
    for name, fn in tests:
        try:
            fn()
        except Exception:  # noqa: BLE001 - report every failure and go on
            failed += 1
            print(f"FAIL {name}")
            traceback.print_exc()
        else:
            passed += 1
            print(f"ok   {name}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
