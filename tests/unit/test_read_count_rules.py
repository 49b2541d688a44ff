"""One declaration of the read-count rules (sample_fields.READ_COUNT_RULES) for read_counts and the C fast path.

These fail when the two diverge, whatever the test files hold: the fast path looks up other keys than
READ_COUNT_KEYS, a rule is neither the fast path's (FAST_RULES, reading FAST_KEYS only) nor one whose keys send
the record to Python (FALLBACK_KEYS), or read_counts reads a FORMAT key that READ_COUNT_RULES does not declare.
The per-rule differential test on synthetic files is in test_vcf_fastpath.py (RULE_CASES).
"""

import ast
import inspect
from pathlib import Path

import pysam  # noqa: F401 - loads htslib, which _fastpath links to by file name
import pytest

from services.ingest.adapters.vcf import _fastpath
from services.ingest.domain import sample_fields
from services.ingest.domain.sample_fields import READ_COUNT_KEYS, READ_COUNT_RULES
from tests.unit.test_vcf_fastpath import C_LOOP, FAST, NO_BUILD_CHECK, _assert_same, _read, _write_vcf

FAST_RULES = set(_fastpath.FAST_RULES)
FAST_KEYS = set(_fastpath.FAST_KEYS)
FALLBACK_KEYS = set(_fastpath.FALLBACK_KEYS)
# Strelka's tier-1 keys are read as f"{ref.upper()}U": a formatted part of a key stands for a base.
BASES = "ACGT"


def test_the_fast_path_looks_up_read_count_keys():
    assert sorted(_fastpath.COUNT_KEYS) == sorted(READ_COUNT_KEYS)  # each once, none else
    assert _fastpath.COUNT_KEYS[: len(_fastpath.FAST_KEYS)] == _fastpath.FAST_KEYS  # C indexes them by position
    assert set(_fastpath.COUNT_KEYS) == FAST_KEYS | FALLBACK_KEYS and not FAST_KEYS & FALLBACK_KEYS


def test_rule_declarations_are_well_formed():
    names = [rule.name for rule in READ_COUNT_RULES]
    assert len(names) == len(set(names))
    for rule in READ_COUNT_RULES:
        assert rule.keys and len(rule.keys) == len(set(rule.keys)), rule.name
        assert rule.selected_by and set(rule.selected_by) <= set(rule.keys), rule.name


@pytest.mark.parametrize("rule", READ_COUNT_RULES, ids=lambda rule: rule.name)
def test_each_rule_is_the_fast_paths_or_sends_its_records_to_python(rule):
    if rule.name in FAST_RULES:
        unread = set(rule.keys) - FAST_KEYS
        assert not unread, (
            f"{rule.name} is implemented in C (_fastpath.FAST_RULES) but reads {sorted(unread)}, which the C code "
            "does not read: implement them in _fastpath.pyx (FAST_KEYS, _fill_counts) or take the rule out of "
            "FAST_RULES"
        )
    else:
        # The fast path must hand over every record the rule can apply to: one of the keys selecting the rule, and
        # every key it reads that C does not, is a key whose presence in the header sends the record to Python.
        unselected = set(rule.selected_by) - FALLBACK_KEYS
        assert not unselected, (
            f"{rule.name} is left to Python, but a record with {sorted(unselected)} stays on the fast path, whose "
            "own rules would read it: implement the rule in _fastpath.pyx (and name it in FAST_RULES) or select it "
            "by a key of its own"
        )
        assert set(rule.keys) - FAST_KEYS <= FALLBACK_KEYS, rule.name


def test_fast_rules_are_rules_of_read_counts():
    names = {rule.name for rule in READ_COUNT_RULES}
    assert FAST_RULES <= names, f"the fast path implements {sorted(FAST_RULES - names)}, which read_counts lacks"
    read_by_fast_rules = {key for rule in READ_COUNT_RULES if rule.name in FAST_RULES for key in rule.keys}
    assert FAST_KEYS == read_by_fast_rules, "the fast path reads keys none of its rules reads"


def _format_mappings(tree: ast.Module) -> dict[str, set[str]]:
    """Each function of the module and the names of its Mapping parameters (the FORMAT values)."""
    functions = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            arguments = node.args.posonlyargs + node.args.args + node.args.kwonlyargs
            functions[node.name] = {
                arg.arg for arg in arguments if arg.annotation is not None and "Mapping" in ast.unparse(arg.annotation)
            }
    return functions


def _key_names(node: ast.expr) -> set[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.JoinedStr):
        names = {""}
        for part in node.values:
            if isinstance(part, ast.Constant):
                names = {name + part.value for name in names}
            else:
                names = {name + base for name in names for base in BASES}
        return names
    raise AssertionError(f"a FORMAT key read as {ast.unparse(node)} (line {node.lineno}): declare it by name")


def format_keys_read(source: str) -> set[str]:
    """Every FORMAT key the module's functions read from their Mapping parameters: fmt.get(key), fmt[key],
    key in fmt. Any other use of the mapping fails, except handing it to another such function of the module."""
    tree = ast.parse(source)
    functions = _format_mappings(tree)
    keys: set[str] = set()
    for function in tree.body:
        if not isinstance(function, ast.FunctionDef) or not functions[function.name]:
            continue
        mappings = functions[function.name]
        understood: set[int] = set()  # ids of the Name nodes of a use read above
        for node in ast.walk(function):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
                    and isinstance(node.func.value, ast.Name) and node.func.value.id in mappings):
                keys |= _key_names(node.args[0])
                understood.add(id(node.func.value))
            elif isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id in mappings:
                keys |= _key_names(node.slice)
                understood.add(id(node.value))
            elif isinstance(node, ast.Compare):
                for left, op, right in zip([node.left, *node.comparators[:-1]], node.ops, node.comparators, strict=True):
                    if isinstance(op, ast.In | ast.NotIn) and isinstance(right, ast.Name) and right.id in mappings:
                        keys |= _key_names(left)
                        understood.add(id(right))
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and functions.get(node.func.id):
                for arg in node.args:
                    if isinstance(arg, ast.Name) and arg.id in mappings:
                        understood.add(id(arg))  # read by that function, which is checked in its turn
        for node in ast.walk(function):
            if isinstance(node, ast.Name) and node.id in mappings and isinstance(node.ctx, ast.Load):
                assert id(node) in understood, (
                    f"{function.name} reads FORMAT values as `{node.id}` in a way this test cannot follow "
                    f"(line {node.lineno}): read them with {node.id}.get(\"KEY\")"
                )
    return keys


def test_every_key_read_counts_reads_is_declared():
    read = format_keys_read(Path(inspect.getfile(sample_fields)).read_text(encoding="utf-8"))
    assert {"AD", "AF", "DP", "AU", "TIR"} <= read  # the parser does see read_counts' reads
    assert not read - READ_COUNT_KEYS, f"read_counts reads {sorted(read - READ_COUNT_KEYS)}: declare them in READ_COUNT_RULES"
    assert not READ_COUNT_KEYS - read, f"READ_COUNT_RULES declares {sorted(READ_COUNT_KEYS - read)}, which nothing reads"


def test_the_key_parser_sees_a_new_read():
    source = '''
def read_counts(fmt: Mapping[str, Any]) -> None:
    fmt.get("VF"), fmt["NV"], "NR" in fmt, _helper(fmt), fmt.get(f"{x}U")

def _helper(values: Mapping[str, Any]) -> None:
    values.get("SAC")
'''
    assert format_keys_read(source) == {"VF", "NV", "NR", "SAC", "AU", "CU", "GU", "TU"}
    with pytest.raises(AssertionError, match="cannot follow"):
        format_keys_read("def f(fmt: Mapping[str, Any]) -> None:\n    fmt.items()\n")
    with pytest.raises(AssertionError, match="declare it by name"):
        format_keys_read("def f(fmt: Mapping[str, Any], key: str) -> None:\n    fmt.get(key)\n")


# The compiled fast path does use FALLBACK_KEYS: a header declaring any of them hands a Mutect2 record to Python.
MUTECT2_FORMATS = {"AD": ("R", "Integer"), "AF": ("A", "Float"), "DP": ("1", "Integer")}
MUTECT2_RECORD = ("C", ("A",), {"AD": (29, 27), "AF": (0.467,), "DP": 56})


def test_the_fast_path_takes_a_record_without_fallback_keys(tmp_path):
    path = _write_vcf(tmp_path / "mutect2.vcf.gz", MUTECT2_FORMATS, [MUTECT2_RECORD])
    assert _assert_same(path) == 1


@pytest.mark.parametrize("key", _fastpath.FALLBACK_KEYS)
def test_a_fallback_key_in_the_header_sends_records_to_python(tmp_path, key):
    path = _write_vcf(tmp_path / f"{key}.vcf.gz", {**MUTECT2_FORMATS, key: (".", "String")}, [MUTECT2_RECORD])
    outcome, taken = _read(path, FAST, NO_BUILD_CHECK)
    assert outcome[0] == "variants" and taken == 0
    assert outcome == _read(path, C_LOOP, NO_BUILD_CHECK)[0]
