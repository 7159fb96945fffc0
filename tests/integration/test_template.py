"""infra/template.yaml against the brief's infrastructure rules, and the tables the tests use against it."""

from __future__ import annotations

from typing import Any

from hblocal.template import load_template, resources

from tests.conftest import AwsWorld

T = load_template()


def test_template_tables_are_the_ones_the_tests_use(local_aws: AwsWorld) -> None:
    dynamodb = local_aws.aws.client("dynamodb")
    for logical, res in resources(T, "AWS::DynamoDB::Table").items():
        props = res["Properties"]
        table = dynamodb.describe_table(TableName=local_aws.tables[logical])["Table"]
        assert table["KeySchema"] == props["KeySchema"], logical
        wanted = sorted(i["IndexName"] for i in props.get("GlobalSecondaryIndexes", []))
        assert sorted(i["IndexName"] for i in table.get("GlobalSecondaryIndexes", [])) == wanted, logical
        ttl = dynamodb.describe_time_to_live(TableName=local_aws.tables[logical])["TimeToLiveDescription"]
        assert (ttl.get("TimeToLiveStatus") == "ENABLED") == bool(props.get("TimeToLiveSpecification")), logical


def test_template_tables_have_recovery_and_encryption() -> None:
    for logical, res in resources(T, "AWS::DynamoDB::Table").items():
        props = res["Properties"]
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True, logical
        assert props["SSESpecification"]["SSEEnabled"] is True, logical
    assert T["Resources"]["ConnectionsTable"]["Properties"]["SSESpecification"]["SSEType"] == "KMS"


def _statements(fn: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for p in fn["Properties"].get("Policies", []) for s in p.get("Statement", [])]


def test_template_functions_have_their_own_exact_roles_logs_and_the_rules() -> None:
    functions = resources(T, "AWS::Serverless::Function")
    assert set(functions) >= {
        "PushDocumentFunction",
        "QbWebhookFunction",
        "FlushBufferFunction",
        "TokenRefreshFunction",
        "SetupApiFunction",
    }
    groups = resources(T, "AWS::Logs::LogGroup")
    for name, fn in functions.items():
        statements = _statements(fn)
        assert statements, f"{name} has no policy of its own"
        for st in statements:
            assert "*" not in str(st.get("Resource")) or "secret:" in str(st.get("Resource")), (name, st["Sid"])
            assert all("*" not in action for action in st["Action"]), (name, st["Sid"])
        assert any(name in str(g["Properties"]["LogGroupName"]) for g in groups.values()), f"{name} has no log group"
        for event in fn["Properties"].get("Events", {}).values():
            if event["Type"] == "Schedule":
                assert event["Properties"]["RetryPolicy"] and event["Properties"]["DeadLetterConfig"], name
            if event["Type"] == "SQS":
                assert event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"], name
    assert functions["TokenRefreshFunction"]["Properties"]["ReservedConcurrentExecutions"] == 1


def test_template_every_queue_has_a_dead_letter_queue_with_an_alarm() -> None:
    queues = resources(T, "AWS::SQS::Queue")
    dlqs = {q["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0] for q in queues.values()
            if "RedrivePolicy" in q["Properties"]}  # fmt: skip
    alarmed = {
        a["Properties"]["Dimensions"][0]["Value"]["Fn::GetAtt"][0]
        for a in resources(T, "AWS::CloudWatch::Alarm").values()
    }
    for name in queues:
        is_dlq = name in dlqs or name == "ScheduleDLQ"
        assert is_dlq or name in {q for q in queues if "RedrivePolicy" in queues[q]["Properties"]}, name
        if is_dlq:
            assert name in alarmed, f"{name} has no alarm"
