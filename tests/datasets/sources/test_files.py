"""Ingesting files and folders: formats, options and every kind of bad file."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from modelward.datasets import DatasetService
from modelward.errors import InvalidInput, NotFound


def test_csv_types_nulls_and_schema(service: DatasetService, write: Callable[..., Path]) -> None:
    path = write("a.csv", "id,score,name,flag\n1,0.5,ann,true\n2,,bob,false\n3,1.5,,true\n")
    result = service.ingest(path, name="people")
    v = result.version
    assert (v.ref, v.rows, result.created) == ("people@1", 3, True)
    assert [(c.name, c.type, c.nullable) for c in v.schema] == [
        ("id", "int64", False),
        ("score", "double", True),
        ("name", "string", True),
        ("flag", "bool", False),
    ]
    assert v.source["kind"] == "file"
    assert v.source["bytes"] == path.stat().st_size
    frame = service.load(v)
    assert frame["name"].isna().tolist() == [False, False, True]
    assert frame["score"].tolist()[0] == 0.5


def test_tsv_gzip_and_explicit_delimiter(
    service: DatasetService, write: Callable[..., Path]
) -> None:
    tsv = write("t.tsv", "a\tb\n1\tx\n2\ty\n")
    assert service.ingest(tsv, name="t").version.columns == ("a", "b")
    packed = write("g.csv.gz", gzip.compress(b"a;b\n1;x\n2;y\n"))
    version = service.ingest(packed, name="g", delimiter=";").version
    assert version.columns == ("a", "b")
    assert version.rows == 2


def test_parquet_json_and_jsonl_files(service: DatasetService, write: Callable[..., Path]) -> None:
    table = pa.table({"a": [1, 2, 3], "b": ["x", "y", None]})
    parquet = write("p.parquet", b"")
    pq.write_table(table, parquet)
    v_parquet = service.ingest(parquet, name="p").version
    records = [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}, {"a": 3, "b": None}]
    v_json = service.ingest(write("j.json", json.dumps(records)), name="j").version
    v_lines = service.ingest(
        write("l.jsonl", "\n".join(json.dumps(r) for r in records) + "\n\n"), name="l"
    ).version
    nested = write("n.json", json.dumps({"meta": {}, "data": {"items": records}}))
    v_nested = service.ingest(nested, name="n", records_path="data.items").version
    columnar = write("c.json", json.dumps({"a": [1, 2, 3], "b": ["x", "y", None]}))
    v_columnar = service.ingest(columnar, name="c").version
    # The same table from every format is the same content.
    digests = {v.digest for v in (v_parquet, v_json, v_lines, v_nested, v_columnar)}
    assert len(digests) == 1


def test_folder_of_files_is_one_version(
    service: DatasetService, write: Callable[..., Path]
) -> None:
    write("folder/2024/b.csv", "a,b\n3,z\n")
    write("folder/2023/a.csv", "a,b\n1,x\n2,y\n")
    write("folder/.hidden/c.csv", "a,b\n9,q\n")
    write("folder/README", "not data")
    folder = write("folder/notes.txt", "a,b\n4,w\n").parent
    version = service.ingest(folder, name="f", format="csv").version
    assert service.load(version)["a"].tolist() == [1, 2, 3, 4]
    assert version.source["files"] == 3


def test_folder_with_other_columns_is_refused(
    service: DatasetService, write: Callable[..., Path]
) -> None:
    write("mixed/a.csv", "a,b\n1,x\n")
    folder = write("mixed/b.csv", "a,c\n2,y\n").parent
    with pytest.raises(InvalidInput, match="columns changed part-way: a, c after a, b"):
        service.ingest(folder, name="m")
    assert service.list() == []


def test_folder_mixing_formats_is_refused(
    service: DatasetService, write: Callable[..., Path]
) -> None:
    write("both/a.csv", "a\n1\n")
    folder = write("both/b.json", "[]").parent
    with pytest.raises(InvalidInput, match="mixes formats \\(csv, json\\)"):
        service.ingest(folder, name="m")


def test_missing_file_and_unknown_format(
    service: DatasetService, write: Callable[..., Path], tmp_path: Path
) -> None:
    with pytest.raises(NotFound, match=r"no such file or folder: .*nope.csv; check the path"):
        service.ingest(tmp_path / "nope.csv", name="x")
    odd = write("data.xyz", "a\n1\n")
    with pytest.raises(InvalidInput, match=r"cannot tell the format of .*data.xyz"):
        service.ingest(odd, name="x")
    assert service.ingest(odd, name="x", format="csv").version.rows == 1
    with pytest.raises(InvalidInput, match="unknown file format 'xls'"):
        service.ingest(odd, name="x", format="xls")


def test_empty_file_and_header_only_file(
    service: DatasetService, write: Callable[..., Path]
) -> None:
    with pytest.raises(InvalidInput, match=r"empty.csv is empty; there is nothing to ingest"):
        service.ingest(write("empty.csv", ""), name="e")
    with pytest.raises(InvalidInput, match="has no rows; there is nothing to ingest"):
        service.ingest(write("header.csv", "a,b\n"), name="e")
    with pytest.raises(InvalidInput, match="is empty; there is nothing to ingest"):
        service.ingest(write("empty.json", "  "), name="e")
    with pytest.raises(InvalidInput, match=r"empty.jsonl has no rows; there is nothing to ingest"):
        service.ingest(write("empty.jsonl", "\n"), name="e")
    assert service.list() == []


def test_ragged_rows_fail_or_are_skipped_with_a_warning(
    service: DatasetService, write: Callable[..., Path]
) -> None:
    path = write("ragged.csv", "a,b\n1,x\n2,y,extra\n3,z\n")
    with pytest.raises(
        InvalidInput, match=r"a row has 3 fields where the header has 2 .*on_bad_lines='skip'"
    ):
        service.ingest(path, name="r")
    result = service.ingest(path, name="r", on_bad_lines="skip")
    assert result.version.rows == 2
    assert result.warnings == (
        "ragged.csv: skipped 1 malformed row(s) with the wrong number of fields "
        "(first: 3 fields where 2 were expected: '2,y,extra')",
    )


def test_unreadable_encoding_names_the_fix(
    service: DatasetService, write: Callable[..., Path]
) -> None:
    path = write("latin.csv", "name,city\nJosé,Zürich\n".encode("latin-1"))
    with pytest.raises(InvalidInput, match=r"column 'name' is not valid utf-8 text.*latin-1"):
        service.ingest(path, name="l")
    version = service.ingest(path, name="l", encoding="latin-1").version
    assert service.load(version)["city"].tolist() == ["Zürich"]
    with pytest.raises(InvalidInput, match="unknown text encoding 'klingon'"):
        service.ingest(path, name="l", encoding="klingon")


def test_mixed_types_in_a_column_are_widened_with_a_warning(
    service: DatasetService, write: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from modelward.datasets.sources import files

    # Small blocks, so the odd values arrive after the type was already inferred.
    monkeypatch.setattr(files, "CSV_BLOCK_SIZE", 64)
    rows = "".join(f"{i},{i},,{i}\n" for i in range(50))
    path = write("mixed.csv", "n,m,e,k\n" + rows + "2.5,oops,7,8\n")
    result = service.ingest(path, name="mixed")
    types = {c.name: c.type for c in result.version.schema}
    assert types == {"n": "double", "m": "string", "e": "int64", "k": "int64"}
    assert result.warnings == (
        "column 'n' holds mixed values (value '2.5' is not int64); stored as double",
        "column 'm' holds mixed values (value 'oops' is not int64); stored as string",
        "column 'e' holds mixed values (value '7' is not null); stored as int64",
    )
    frame = service.load(result.version)
    assert frame["m"].tolist()[-1] == "oops"
    assert frame["n"].tolist()[-1] == 2.5
    assert len(frame) == 51


def test_declared_types_and_their_errors(
    service: DatasetService, write: Callable[..., Path]
) -> None:
    path = write("codes.csv", "code,value\n001,1\n002,2\n")
    version = service.ingest(path, name="c", types={"code": "string", "value": "float"}).version
    assert [c.type for c in version.schema] == ["string", "double"]
    assert service.load(version)["code"].tolist() == ["001", "002"]
    with pytest.raises(
        InvalidInput, match="types were declared for column\\(s\\) the source lacks: x"
    ):
        service.ingest(path, name="c", types={"x": "int"})
    with pytest.raises(InvalidInput, match="unknown column type 'complex'"):
        service.ingest(path, name="c", types={"code": "complex"})


def test_repeated_and_empty_column_names(
    service: DatasetService, write: Callable[..., Path]
) -> None:
    version = service.ingest(write("idx.csv", ",a\n0,x\n1,y\n"), name="idx").version
    assert version.columns == ("column_1", "a")
    with pytest.raises(InvalidInput, match="repeats column name\\(s\\) a; rename them"):
        service.ingest(write("dup.csv", "a,a\n1,2\n"), name="dup")


def test_bad_json_documents(service: DatasetService, write: Callable[..., Path]) -> None:
    with pytest.raises(InvalidInput, match="is not valid JSON: Expecting value at line 1"):
        service.ingest(write("bad.json", "[1, }"), name="b")
    with pytest.raises(InvalidInput, match="record 1 is int, not a JSON object"):
        service.ingest(write("ints.json", "[1, 2]"), name="b")
    with pytest.raises(InvalidInput, match="say where its records are with records_path"):
        service.ingest(write("obj.json", '{"a": 1, "b": {"c": 2}}'), name="b")
    with pytest.raises(InvalidInput, match="has no key 'rows' on the records path 'rows'"):
        service.ingest(write("rp.json", '{"data": []}'), name="b", records_path="rows")
    with pytest.raises(InvalidInput, match="line 2 is not valid JSON"):
        service.ingest(write("bad.jsonl", '{"a": 1}\n{"a": \n'), name="b")


def test_json_mixed_values_become_text(service: DatasetService, write: Callable[..., Path]) -> None:
    records = [{"a": 1, "b": 1}, {"a": "two", "b": 2.5}, {"a": None, "b": None}]
    result = service.ingest(write("m.json", json.dumps(records)), name="m")
    assert {c.name: c.type for c in result.version.schema} == {"a": "string", "b": "double"}
    assert service.load(result.version)["a"].tolist()[:2] == ["1", "two"]
    assert result.warnings == ("m.json: column 'a' mixes value types; stored as text",)


def test_options_that_do_not_apply_are_refused(
    service: DatasetService, write: Callable[..., Path]
) -> None:
    path = write("a.csv", "a\n1\n")
    with pytest.raises(InvalidInput, match="option\\(s\\) headers do not apply to a file source"):
        service.ingest(path, name="a", headers={"x": "y"})
    with pytest.raises(InvalidInput, match="on_bad_lines must be 'error' or 'skip'"):
        service.ingest(path, name="a", on_bad_lines="warn")
