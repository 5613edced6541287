"""The audit of claimed parameter tables. Every expected number is hand arithmetic."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import EXAMPLES, evaluate_formula

import learnable
from learnable.auditing import audit, audit_file, parse_claims
from learnable.errors import LearnableError, SpecError
from learnable.render.audit import render_audit

GOLDEN = Path(__file__).parent / "golden"
SEED_CLAIMS = EXAMPLES / "simple_cnn.claims.md"

# The seed's hand arithmetic: ((H×W×D) + bias) × N_f and (Length + bias) × N_nodes.
CONV_1 = ((3 * 3 * 1) + 1) * 32  # 320
CONV_2 = ((3 * 3 * 32) + 1) * 64  # 18,496; the seed prints 18,494
FC_1 = (9216 + 1) * 128  # 1,179,776
FC_2 = (128 + 1) * 10  # 1,290
SEED_TOTAL = CONV_1 + CONV_2 + FC_1 + FC_2  # 1,199,882
SEED_ROWS_SUM = 320 + 18_494 + 0 + 0 + 1_179_776 + 1_290  # what the seed's own rows add up to

# Input(4) | Dense(3) | Dense(2): 4×3 + 3 = 15 and 3×2 + 2 = 8, 23 in all.
TINY = "Input(4) | Dense(3) | Dense(2)"
TINY_DENSE, TINY_DENSE_1 = 4 * 3 + 3, 3 * 2 + 2


def seed_audit():
    return audit_file(learnable.count(EXAMPLES / "simple_cnn.yaml"), SEED_CLAIMS)


def by_claim(result):
    return {row.claim: row for row in result.rows}


def test_seed_audit_flags_exactly_conv_2():
    result = seed_audit()
    rows = by_claim(result)
    assert [row.claim for row in result.rows if not row.ok] == ["Conv_2 + ReLU"]
    conv_2 = rows["Conv_2 + ReLU"]
    assert (conv_2.layer, conv_2.claimed, conv_2.params) == ("conv_2", 18_494, 18_496)
    assert conv_2.params == CONV_2
    assert conv_2.formula == "3×3×32×64 + 64 = 18,496"
    assert evaluate_formula(conv_2.formula) == 3 * 3 * 32 * 64 + 64
    assert "18,494" in conv_2.verdict and "18,496" in conv_2.verdict and "matched by name" in conv_2.verdict
    assert result.disagreements == 1 and not result.ok


def test_seed_audit_confirms_every_other_row_by_name():
    rows = by_claim(seed_audit())
    expected = {"Conv_1 + ReLU": ("conv_1", CONV_1), "Max Pool": ("max_pool", 0), "Flatten": ("flatten", 0),
                "FC_1": ("fc_1", FC_1), "FC_2 (Output)": ("fc_2", FC_2)}
    for claim, (layer, params) in expected.items():
        row = rows[claim]
        assert (row.ok, row.layer, row.params, row.claimed) == (True, layer, params, params), claim
        assert row.matched_by == "name" and row.verdict == "matched by name"
        if params:
            assert evaluate_formula(row.formula) == params, row.formula


def test_seed_audit_confirms_the_total_and_notes_the_rows_do_not_add_up():
    result = seed_audit()
    (total,) = result.totals
    assert (total.kind, total.claimed, total.computed, total.ok) == ("total_params", 1_199_882, SEED_TOTAL, True)
    assert evaluate_formula(total.formula) == SEED_TOTAL
    assert total.claimed_rows_sum == SEED_ROWS_SUM == 1_199_880
    assert total.adds_up is False
    assert "add up to 1,199,880, 2 short of their own total" in total.verdict
    assert result.not_claimed == ()


def test_seed_claims_file_is_the_seed_table():
    claims = parse_claims(SEED_CLAIMS.read_text(encoding="utf-8"))
    assert [(c.name, c.claimed) for c in claims] == [
        ("Conv_1 + ReLU", 320), ("Conv_2 + ReLU", 18494), ("Max Pool", 0), ("Flatten", 0),
        ("FC_1", 1179776), ("FC_2 (Output)", 1290), ("Total", 1199882)]
    assert SEED_CLAIMS.read_text(encoding="utf-8").startswith("<!--")


def test_seed_text_pasted_as_it_is_tab_separated():
    pasted = ("Let's Calculate the Number of Parameters in Our Simple CNN\n\n"
              "Layer\tParameters\nConv_1 + ReLU\t320\nConv_2 + ReLU\t18494\nMax Pool\t0\nFlatten\t0\n"
              "FC_1\t1,179,776\nFC_2 (Output)\t1,290\nTotal\t1,199,882\n\nConv_1\n")
    result = audit(learnable.count(EXAMPLES / "simple_cnn.yaml"), pasted)
    assert [row.layer for row in result.rows if not row.ok] == ["conv_2"]
    assert [t.ok for t in result.totals] == [True]


def test_csv_claims_with_and_without_quotes():
    claims = ('layer,params\nconv_1,320\nconv_2,"18,496"\nfc_1,1,179,776\nfc_2,1290\n'
              "total params,1199882\n")
    result = audit(learnable.count(EXAMPLES / "simple_cnn.yaml"), claims, "claims.csv")
    assert [(r.layer, r.claimed, r.ok) for r in result.rows] == [
        ("conv_1", 320, True), ("conv_2", 18_496, True), ("fc_1", 1_179_776, True), ("fc_2", 1_290, True)]
    assert [(t.claimed, t.ok, t.adds_up) for t in result.totals] == [(1_199_882, True, True)]
    assert result.ok and result.disagreements == 0


def test_csv_without_a_header():
    result = audit(learnable.count(TINY), "dense,15\ndense_1,8\n")
    assert [(r.layer, r.ok) for r in result.rows] == [("dense", True), ("dense_1", True)]
    assert result.totals == () and result.ok


def test_claims_matched_by_order():
    # The compact form names its layers conv2d, conv2d_1, ...: no claim name matches but Flatten.
    report = learnable.count(EXAMPLES / "simple_cnn.txt")
    claims = ("| Layer | Parameters |\n|---|---|\n| First conv | 320 |\n| Second conv | 18,496 |\n"
              "| Pooling | 0 |\n| Flatten | 0 |\n| Hidden | 1,179,776 |\n| Output | 1,290 |\n")
    result = audit(report, claims)
    assert [(r.claim, r.layer, r.matched_by, r.ok) for r in result.rows] == [
        ("First conv", "conv2d", "order", True), ("Second conv", "conv2d_1", "order", True),
        ("Pooling", "max_pooling2d", "order", True), ("Flatten", "flatten", "name", True),
        ("Hidden", "dense", "order", True), ("Output", "dense_1", "order", True)]
    assert all("matched by order" in r.verdict for r in result.rows if r.matched_by == "order")
    assert result.ok


def test_order_matching_counts_only_layers_with_parameters():
    result = audit(learnable.count(TINY), "| hidden | 15 |\n| out | 9 |\n")
    assert [(r.layer, r.params, r.ok) for r in result.rows] == [
        ("dense", TINY_DENSE, True), ("dense_1", TINY_DENSE_1, False)]
    assert "claimed 9, 1 more than the computed 8; matched by order" == result.rows[1].verdict


def test_a_claimed_total_that_disagrees():
    # Rows right (15 + 8 = 23) but the total claims 24: the rows do not add up to it either.
    result = audit(learnable.count(TINY), "| dense | 15 |\n| dense_1 | 8 |\n| **Total** | 24 |\n")
    (total,) = result.totals
    assert (total.claimed, total.computed, total.ok) == (24, TINY_DENSE + TINY_DENSE_1, False)
    assert total.formula == "15 + 8 = 23"
    assert total.claimed_rows_sum == 23 and total.adds_up is False
    assert total.verdict.startswith("claimed 24, 1 more than the computed 23; the claimed rows add up to 23")
    assert result.disagreements == 1


def test_a_wrong_total_the_wrong_rows_add_up_to():
    # 15 + 9 = 24 claimed as the total: consistent with itself, wrong about the network (23).
    result = audit(learnable.count(TINY), "| dense | 15 |\n| dense_1 | 9 |\n| Total | 24 |\n")
    assert [r.ok for r in result.rows] == [True, False]
    (total,) = result.totals
    assert (total.ok, total.adds_up, total.claimed_rows_sum) == (False, True, 24)
    assert result.disagreements == 2


def test_claims_that_do_not_add_up_to_their_own_total():
    # dense_1 claimed 7 (it is 8); the total 23 is right, but 15 + 7 = 22.
    result = audit(learnable.count(TINY), "| dense | 15 |\n| dense_1 | 7 |\n| Total | 23 |\n")
    (total,) = result.totals
    assert total.ok and total.adds_up is False and total.claimed_rows_sum == 22
    assert total.verdict.endswith("the claimed rows add up to 22, 1 short of their own total")
    assert [r.ok for r in result.rows] == [True, False]


def test_teaching_page_dense_without_its_bias():
    # 13×13×10 = 1,690 inputs to Dense(10): 1,690×10 + 10 = 16,910. The page says 16,900,
    # the kernel alone (1,690×10), the bias dropped.
    report = learnable.count("Input(13, 13, 10) | Flatten() | Dense(10)")
    result = audit(report, "| Layer | Parameters |\n|---|---|\n| Flatten | 0 |\n| Dense | 16,900 |\n"
                           "| Total | 16,900 |\n")
    dense = by_claim(result)["Dense"]
    assert (dense.layer, dense.claimed, dense.params, dense.ok) == ("dense", 16_900, 1_690 * 10 + 10, False)
    assert dense.formula == "1,690×10 + 10 = 16,910"
    assert "10 short of the computed 16,910 (the count without its bias, 10)" in dense.verdict
    (total,) = result.totals
    assert (total.ok, total.computed, total.adds_up) == (False, 16_910, True)


def test_trainable_and_non_trainable_totals():
    # Dense(4) on 8 inputs: 8×4 + 4 = 36. Keras BatchNorm on 4 channels: 4 + 4 + 4 + 4 = 16,
    # of which the moving mean and variance (8) are non-trainable. Trainable 36 + 8 = 44.
    report = learnable.count("Input(8) | Dense(4) | BatchNormalization()")
    claims = "Total params: | 52\nTrainable params: | 44\nNon-trainable params: | 9\n"
    result = audit(report, claims)
    assert [(t.kind, t.computed, t.ok) for t in result.totals] == [
        ("total_params", 52, True), ("trainable_params", 44, True), ("non_trainable_params", 8, False)]
    assert result.rows == () and result.totals[0].adds_up is None


def test_unmatched_claims_and_layers_not_claimed():
    result = audit(learnable.count(TINY), "| dense_1 | 8 |\n| dense_2 | 5 |\n")
    assert [(r.claim, r.layer, r.ok) for r in result.rows] == [("dense_1", "dense_1", True), ("dense_2", None, False)]
    assert "no layer named 'dense_2'" in result.rows[1].verdict
    assert [layer.name for layer in result.not_claimed] == ["dense"]


def test_layers_not_claimed_are_not_an_error():
    result = audit(learnable.count(TINY), "| dense_1 | 8 |\n")
    assert result.ok and [layer.name for layer in result.not_claimed] == ["dense"]
    assert "dense (Dense): 4×3 + 3 = 15" in render_audit(result)


def test_markdown_table_inside_prose_with_decorations():
    text = ("# Our model\n\nThe parameters:\n\n"
            "Layer | Type | # Params\n:--- | --- | ---:\n`dense` | Dense | **15**\n*Dense_1* | Dense | 1 000\n"
            "\nThat is all. | A stray pipe after the table is ignored.\n")
    claims = parse_claims(text)
    assert [(c.name, c.claimed, c.line) for c in claims] == [("dense", 15, 7), ("Dense_1", 1000, 8)]


@pytest.mark.parametrize("text, where, words", [
    ("There is no table here.\nJust prose.\n", "claims.md", "no table found"),
    ("", "claims.md", "no table found"),
    ("| Layer | Parameters |\n|---|---|\n", "claims.md", "the table has no rows"),
    ("| Layer | Parameters |\n|---|---|\n| conv_1 | 320 |\n| conv_2 | 18k-ish |\n", "claims.md:4", "'18k-ish'"),
    ("| conv_1 | 320 |\n| conv_2 | 1.8 |\n", "claims.md:2", "give its unit"),
    ("layer,params\nconv_1,320\nconv_2,lots\n", "claims.md:3", "'lots'"),
    ("| conv_1 |\n", "claims.md:1", "claims nothing"),
])
def test_bad_claims_files(text, where, words):
    with pytest.raises(SpecError) as info:
        audit(learnable.count(EXAMPLES / "simple_cnn.yaml"), text, "claims.md")
    message = str(info.value)
    assert message.startswith(where + ":"), message
    assert words in message
    assert isinstance(info.value, LearnableError) and info.value.exit_code == 2


def test_missing_claims_file(tmp_path):
    with pytest.raises(SpecError, match="no such file"):
        audit_file(learnable.count(TINY), tmp_path / "absent.md")


def test_json_keys_and_exact_integers():
    data = json.loads(render_audit(seed_audit(), "json"))
    assert set(data) == {"schema_version", "name", "claims_source", "form", "convention", "ok", "disagreements",
                         "rows", "totals", "not_claimed", "ignored_columns", "other_networks", "containers", "total_params"}
    assert data["schema_version"] == 2 and data["form"] == "markdown"
    assert set(data["rows"][0]) == {"claim", "line", "quantity", "claimed", "claimed_text", "layer", "type",
                                    "computed", "formula", "matched_by", "ok", "verdict"}
    assert set(data["totals"][0]) == {"claim", "line", "kind", "claimed", "claimed_text", "computed", "formula",
                                      "ok", "verdict", "claimed_rows_sum", "adds_up"}
    conv_2 = data["rows"][1]
    assert (conv_2["quantity"], conv_2["claimed"], conv_2["computed"], conv_2["line"], conv_2["ok"]) == (
        "params", 18494, 18496, 5, False)
    assert data["total_params"] == 1199882 and data["ok"] is False and data["disagreements"] == 1


GOLDEN_CASES = {"audit.simple_cnn.txt": "table", "audit.simple_cnn.md": "markdown"}


@pytest.mark.parametrize("golden", GOLDEN_CASES, ids=list(GOLDEN_CASES))
def test_audit_rendering_matches_golden(golden, request):
    report = learnable.count(EXAMPLES / "simple_cnn.yaml")
    # A relative name, so the golden file does not depend on where the repository lives.
    text = render_audit(audit(report, SEED_CLAIMS.read_text(encoding="utf-8"), "examples/simple_cnn.claims.md"),
                        GOLDEN_CASES[golden])
    path = GOLDEN / golden
    if request.config.getoption("--update-golden"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def test_audit_needs_no_framework():
    script = (f"import sys\nfor name in ('torch', 'keras', 'tensorflow', 'onnx', 'numpy'):\n    sys.modules[name] = None\n"
              f"import learnable\nfrom learnable.auditing import audit_file\nfrom learnable.render.audit import render_audit\n"
              f"result = audit_file(learnable.count({str(EXAMPLES / 'simple_cnn.yaml')!r}), {str(SEED_CLAIMS)!r})\n"
              f"for fmt in ('table', 'markdown', 'json'):\n    render_audit(result, fmt)\nprint(result.disagreements)\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "1"


def test_cli_audit_of_the_seed_exits_1_and_flags_conv_2():
    from conftest import EXAMPLES, run_cli

    result = run_cli("audit", str(EXAMPLES / "simple_cnn.yaml"), str(EXAMPLES / "simple_cnn.claims.md"))
    assert result.returncode == 1, result.stderr
    flagged = [line for line in result.stdout.splitlines() if line.lstrip().startswith("✗")]
    assert len(flagged) == 1 and "Conv_2" in flagged[0] and "18,496" in flagged[0]
    good = run_cli("audit", str(EXAMPLES / "simple_cnn.yaml"), str(EXAMPLES / "simple_cnn.claims.md"), "-f", "json")
    assert json.loads(good.stdout)["disagreements"] == 1


def test_learnable_audit_stays_the_function():
    import learnable.auditing

    assert callable(learnable.audit)
