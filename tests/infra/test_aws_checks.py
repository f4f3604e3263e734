"""The checks AWS engineers run before a review, on the synthesized stack, offline: cdk-nag's AwsSolutions pack and
checkov. Every finding is fixed in the stack or acknowledged/skipped on its resource with a reason
(infra/stacks/compliance.py). These tests fail on any other finding, on an acknowledgement or skip that no longer
matches a finding, and on a reviewed exception that docs/aws_checks.md does not list.
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "aws_checks.md"
# every option a deployment may turn on, all at once, so their resources are checked too
ALL_OPTIONS = {
    "alarm_email": "ops@example.com", "snap_start": "true", "stream_reserved_concurrency": "10",
    "cloudfront_web_acl_arn": "arn:aws:wafv2:us-east-1:123456789012:global/webacl/console/0000",
}
MIN_REASON = 40  # characters: a reason says why, not "ok" or "n/a"

Finding = tuple[str, str]  # (rule id with its finding, e.g. AwsSolutions-IAM5[Resource::*], construct path)
Ack = tuple[str, str, str]  # (construct path, rule id, reason)


def nag_findings(scope: Any) -> list[Finding]:
    from cdk_nag import AwsSolutionsChecks

    report = AwsSolutionsChecks().validate_scope(scope)
    return [(v.rule_name, r.construct_path or r.resource_logical_id or "?")
            for v in report.violations for r in v.violating_resources]


def covers(ack: Ack, finding: Finding) -> bool:
    path, rule, _ = ack
    return rule == finding[0] and (finding[1] == path or finding[1].startswith(path + "/"))


@pytest.fixture(scope="module")
def recorded() -> tuple[Any, list[Ack]]:
    """The stack with every option on, built with its acknowledgements recorded instead of applied."""
    from infra.app import build_app
    from infra.stacks import compliance

    acks: list[Ack] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(compliance, "acknowledge", lambda scope, rule, reason: acks.append((scope.node.path, rule, reason)))
        app = build_app(bundles="placeholder", context=ALL_OPTIONS)
    return app, acks


# ---- cdk-nag --------------------------------------------------------------------------------------------------

def test_cdk_nag_aws_solutions_finds_nothing_unacknowledged(app: Any) -> None:
    findings = nag_findings(app)
    assert not findings, "\n".join(f"{rule} at {path}" for rule, path in findings)


def test_each_nag_acknowledgement_is_narrow_reasoned_and_still_needed(recorded: tuple[Any, list[Ack]]) -> None:
    app, acks = recorded
    findings = nag_findings(app)
    assert len(findings) > 20  # the pack ran: without the acknowledgements, the reviewed findings are back
    uncovered = [f for f in findings if not any(covers(a, f) for a in acks)]
    assert not uncovered, "\n".join(f"{rule} at {path}" for rule, path in uncovered)
    stale = [a for a in acks if not any(covers(a, f) for f in findings)]
    assert not stale, f"acknowledged, but nothing is found there any more: {stale}"
    assert all(len(reason) >= MIN_REASON for _, _, reason in acks)
    stack = app.node.children[0].node.path
    assert all(path != stack for path, _, _ in acks)  # on resources, never the whole stack
    assert not [a for a in acks if a[1].startswith("AwsSolutions-IAM5") and "[" not in a[1]]  # one wildcard at a time


# ---- checkov --------------------------------------------------------------------------------------------------

def checkov_command() -> str:
    command = os.environ.get("CHECKOV") or str(ROOT / ".venv-checkov" / "bin" / "checkov")
    if not Path(command).is_file():
        pytest.fail(f"checkov is not installed at {command}: `make .venv-checkov/.installed` (make test does it)")
    return command


def without_checkov_skips(template: dict[str, Any]) -> dict[str, Any]:
    bare = copy.deepcopy(template)
    for resource in bare["Resources"].values():
        resource.get("Metadata", {}).pop("checkov", None)
    return bare


def checkov_skips(template: dict[str, Any]) -> dict[tuple[str, str], str]:
    """(check id, Type.LogicalId as checkov names a resource) → the reason in the resource's Metadata."""
    return {(skip["id"], f"{r['Type']}.{logical}"): skip["comment"]
            for logical, r in template["Resources"].items()
            for skip in r.get("Metadata", {}).get("checkov", {}).get("skip", [])}


@pytest.fixture(scope="module")
def checkov(template: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """One checkov run (it takes most of its time to start) over the template as synthesized and the same template
    with its skips removed; results by file name. --skip-download: no call to Prisma Cloud for policies or
    severities, and no API key is passed, so the run is offline (it also passes with the network cut off)."""
    folder = tmp_path_factory.mktemp("checkov")
    synthesized = template.to_json()
    (folder / "stack.template.json").write_text(json.dumps(synthesized))
    (folder / "bare.template.json").write_text(json.dumps(without_checkov_skips(synthesized)))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BC_", "PRISMA_", "CKV_"))}
    done = subprocess.run(
        [checkov_command(), "--skip-download", "--framework", "cloudformation", "--output", "json",
         "--file", str(folder / "stack.template.json"), str(folder / "bare.template.json")],
        capture_output=True, text=True, timeout=300, env=env, cwd=folder,
    )
    try:
        reports = json.loads(done.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"checkov gave no JSON report (exit {done.returncode}): {done.stderr[-2000:]}")
    by_file: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for report in reports if isinstance(reports, list) else [reports]:
        assert report["summary"]["parsing_errors"] == 0
        for outcome in ("passed_checks", "failed_checks", "skipped_checks"):
            for check in report["results"][outcome]:
                by_file.setdefault(Path(check["file_path"]).name, {}).setdefault(outcome, []).append(check)
    return by_file


def test_checkov_fails_nothing_on_the_synthesized_template(checkov: dict[str, dict[str, list[dict[str, Any]]]]) -> None:
    stack = checkov["stack.template.json"]
    failed = [f"{c['check_id']} {c['check_name']}: {c['resource']}" for c in stack.get("failed_checks", [])]
    assert not failed, "\n".join(failed)
    assert len(stack["passed_checks"]) > 100  # it did check the stack
    for check in stack["skipped_checks"]:
        assert len(check["check_result"].get("suppress_comment") or "") >= MIN_REASON, check["check_id"]


def test_each_checkov_skip_has_its_reason_and_is_still_needed(
        template: Any, checkov: dict[str, dict[str, list[dict[str, Any]]]]) -> None:
    skips = checkov_skips(template.to_json())
    skipped = {(c["check_id"], c["resource"]) for c in checkov["stack.template.json"]["skipped_checks"]}
    assert skipped == set(skips)  # checkov read every skip where the stack wrote it
    # without the skips, exactly the skipped checks fail: none is stale, none hides another finding
    fails_bare = {(c["check_id"], c["resource"]) for c in checkov["bare.template.json"]["failed_checks"]}
    assert fails_bare == set(skips)


# ---- the docs page --------------------------------------------------------------------------------------------

def documented_ids() -> set[str]:
    """The rule and check ids in the first column of the table rows of docs/aws_checks.md."""
    ids: set[str] = set()
    for line in DOC.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.startswith("|") else []
        if len(cells) >= 3:
            ids |= set(re.findall(r"`((?:AwsSolutions-|CKV2?_AWS_)[^`]+)`", cells[1]))
    return ids


def skip_ids(app: Any) -> set[str]:
    """The checkov checks skipped anywhere in an app, read from its resources (no synth needed)."""
    from aws_cdk import CfnResource

    return {skip["id"] for c in app.node.find_all() if isinstance(c, CfnResource)
            for skip in (c.get_metadata("checkov") or {}).get("skip", [])}


def test_docs_list_every_acknowledgement_and_skip(
        app: Any, template: Any, recorded: tuple[Any, list[Ack]]) -> None:
    from aws_cdk import Validations

    prefix = "Annotation::"
    in_default = {rule.removeprefix(prefix) for c in app.node.find_all() for m in c.node.metadata
                  if m.type == Validations.ACKNOWLEDGED_RULES_METADATA_KEY
                  for rule in m.data if rule.removeprefix(prefix).startswith("AwsSolutions-")}
    in_stack = in_default | {rule for _, rule, _ in recorded[1]}
    in_stack |= {check for check, _ in checkov_skips(template.to_json())} | skip_ids(recorded[0])
    documented = documented_ids()
    assert in_stack - documented == set(), "add these to docs/aws_checks.md"
    assert documented - in_stack == set(), "docs/aws_checks.md lists exceptions the stack no longer has"
