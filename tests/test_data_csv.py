"""CSV loading: values, task inference, and one clear sentence for each kind of bad file."""

import warnings

import numpy as np
import pytest

from chainrule.data import load_csv
from chainrule.data.column_checks import ColumnWarning

# The toy files below have a few rows of increasing integers, which the row-number check rightly flags.
pytestmark = pytest.mark.filterwarnings("ignore::chainrule.data.column_checks.ColumnWarning")


def write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_numeric_classification_with_default_last_target(tmp_path):
    path = write(tmp_path, "a,b,label\n1,2,0\n3,4.5,1\n5,6,1\n7,8,0\n\n")
    ds = load_csv(path)
    assert ds.X.dtype == np.float32 and ds.X.tolist() == [[1, 2], [3, 4.5], [5, 6], [7, 8]]
    assert ds.y.dtype == np.int64 and ds.y.tolist() == [0, 1, 1, 0]
    assert ds.task == "classification" and ds.class_names == ("0", "1")
    assert ds.feature_names == ("a", "b") and ds.name == "data"


def test_named_target_in_the_middle_and_string_classes(tmp_path):
    text = "x1,species,x2\n1,setosa,2\n3,virginica,4\n5,setosa,6\n7,versicolor,8\n"
    ds = load_csv(write(tmp_path, text), target="species", dtype=np.float64)
    assert ds.X.dtype == np.float64 and ds.X.tolist() == [[1, 2], [3, 4], [5, 6], [7, 8]]
    assert ds.class_names == ("setosa", "versicolor", "virginica")
    assert ds.y.tolist() == [0, 2, 0, 1]


def test_regression_inferred_from_non_integer_floats(tmp_path):
    ds = load_csv(write(tmp_path, "x,y\n1,0.5\n2,1.5\n3,2.25\n"))
    assert ds.task == "regression" and ds.y.dtype == np.float32 and ds.class_names is None
    assert ds.y.tolist() == [0.5, 1.5, 2.25]


def test_negative_integer_classes_are_mapped_in_sorted_order(tmp_path):
    ds = load_csv(write(tmp_path, "x,t\n1,-1\n2,1\n3,-1\n4,1\n"))
    assert ds.class_names == ("-1", "1") and ds.y.tolist() == [0, 1, 0, 1]


def test_explicit_task_overrides_inference(tmp_path):
    path = write(tmp_path, "x,y\n1,0\n2,1\n3,1\n4,0\n")
    assert load_csv(path, task="regression").y.dtype == np.float32
    many = "x,y\n" + "".join(f"{i},{i % 25}\n" for i in range(30))
    with pytest.raises(ValueError, match="cannot tell whether"):
        load_csv(write(tmp_path, many, "many.csv"))
    ds = load_csv(write(tmp_path, many, "many.csv"), task="classification")
    assert ds.task == "classification" and len(ds.class_names) == 25


def test_class_names_fix_labels_across_files(tmp_path):
    test_file = write(tmp_path, "x,pet\n1,dog\n2,dog\n3,dog\n")
    ds = load_csv(test_file, class_names=("cat", "dog"))
    assert ds.y.tolist() == [1, 1, 1] and ds.class_names == ("cat", "dog")
    with pytest.raises(ValueError, match=r"holds 'cow' on line 2, which is not one of the classes cat, dog"):
        load_csv(write(tmp_path, "x,pet\n1,cow\n", "cow.csv"), class_names=("cat", "dog"))


def test_quoted_fields_bom_semicolons_and_whitespace(tmp_path):
    text = '\ufeff"width" ; "kind"\n 1.5 ; "big, red"\n2 ; small\n3;small\n'
    ds = load_csv(write(tmp_path, text), delimiter=";")
    assert ds.feature_names == ("width",) and ds.class_names == ("big, red", "small")
    assert ds.X[:, 0].tolist() == [1.5, 2, 3]


# (file content, expected message fragment); {p} is the file path.
BAD_FILES = [
    ("", "{p} is empty; expected a header row followed by data rows"),
    ("\n\n  \n", "{p} is empty; expected a header row followed by data rows"),
    ("a,b,c\n", "{p} has a header but no data rows"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "{p} is not a text CSV file (it contains binary data)"),
    ("a,b\n1,2\n".encode("utf-16"), "{p} is UTF-16 text; save it as UTF-8"),
    (b"a,b\n\xff\xfe,1\n", "{p} is not UTF-8 text (undecodable byte at position 4); save it as UTF-8"),
    ("a,b,c\n1,2,3\n4,5\n", "{p}, line 3 has 2 fields but the header has 3"),
    ("a,b,c\n1,2,3\n4,5,6,7\n", "{p}, line 3 has 4 fields but the header has 3"),
    ("a,b,y\n1,2,0\n3,abc,1\n", "{p}, line 3, column 'b': 'abc' is not a number"),
    ("a,b,y\n1,,0\n3,4,1\n", "{p}, line 2, column 'b' is empty; every feature cell needs a number"),
    ("a,b,y\n1,nan,0\n3,4,1\n", "{p}, line 2, column 'b' holds 'nan'; NaN and infinite values are not allowed"),
    ("a,b,y\n1,2,0\n3,-inf,1\n", "{p}, line 3, column 'b' holds '-inf'; NaN and infinite values are not allowed"),
    ("a,y\n1,0\n2,inf\n", "{p}, line 3, column 'y' holds 'inf'; NaN and infinite values are not allowed"),
    (
        "color,size,y\nred,1,0\nblue,2,1\n",
        "{p}: feature column 'color' holds text such as 'red' (line 2); feature columns must be numeric,"
        " so encode it as numbers or make it the target",
    ),
    ("a,b,a\n1,2,0\n", "{p}: column name 'a' appears twice in the header (columns 1 and 3)"),
    ("a,,y\n1,2,0\n", "{p}: column 2 of the header has no name"),
    ("y\n1\n2\n", "{p} has a single column ('y'); expected feature columns and a target column"),
    ("a,y\n1,cat\n2,cat\n3,cat\n", "{p}: target 'y' has a single class ('cat'); classification needs at least two"),
    ("a,y\n1,0\n2,0\n", "{p}: target 'y' has a single class ('0'); classification needs at least two"),
    (
        "a,y\n1,ann\n2,bob\n3,cy\n",
        "{p}: target 'y' has 3 distinct values in 3 rows, so no class has two examples;"
        " pick another target column or pass --task regression (task='regression' in Python)",
    ),
    (
        "a,y\n" + "".join(f"{i},{i}\n" for i in range(25)),
        "cannot tell whether {p}: target 'y' holds class labels or quantities (25 distinct integer values in 25 rows);"
        " say which with --task classification or --task regression (task= in Python)",
    ),
    ("a,y\n1,0\n2,\n3,1\n", "{p}, line 3, target column 'y' is empty"),
]


@pytest.mark.parametrize("content, message", BAD_FILES, ids=[m.split("{p}")[-1][:40] for _, m in BAD_FILES])
def test_bad_file_gives_one_clear_sentence(tmp_path, content, message):
    path = write(tmp_path, content)
    with pytest.raises(ValueError) as err:
        load_csv(path)
    assert str(err.value) == message.format(p=path)


# (file content, keyword arguments, expected message fragment)
BAD_REQUESTS = [
    ("a,b\n1,2\n", {"target": "label"}, "target column 'label' not found; available columns: a, b"),
    ("a,y\n1,1.5\n2,2\n", {"task": "classification"},
     "target 'y' holds non-integer value 1.5 on line 2; class labels must be integers or text"),
    ("a,y\n1,2\n2,x\n", {"task": "regression"},
     "target 'y' holds text ('x' on line 3), which cannot be a regression target"),
    ("a,y\n1,2\n", {"task": "ranking"}, "task must be None, 'classification' or 'regression', got 'ranking'"),
    ("a,y\n1,2\n", {"dtype": "int64"}, "dtype must be a floating-point type such as float32, got int64"),
]


@pytest.mark.parametrize("content, kwargs, message", BAD_REQUESTS)
def test_bad_request_gives_one_clear_sentence(tmp_path, content, kwargs, message):
    with pytest.raises(ValueError) as err:
        load_csv(write(tmp_path, content), **kwargs)
    assert message in str(err.value)


def test_missing_file_and_folder(tmp_path):
    missing = tmp_path / "nope.csv"
    with pytest.raises(FileNotFoundError, match=f"CSV file not found: {missing}"):
        load_csv(missing)
    with pytest.raises(ValueError, match="is a folder, expected a CSV file"):
        load_csv(tmp_path)


def test_error_messages_are_single_sentences(tmp_path):
    for content, message in BAD_FILES:
        assert "\n" not in message
        assert message.count(". ") == 0


@pytest.mark.parametrize("text, message", [
    ("a,b,a\n1,2,3\n", "{p}: column name 'a' appears twice in the header (columns 1 and 3)"),
    ("a,,c\n1,2,3\n", "{p}: column 2 of the header has no name"),
])
def test_the_table_reader_refuses_bad_column_names_as_the_csv_reader_does(tmp_path, text, message):
    from chainrule.data.table_read import read_table

    path = tmp_path / "t.csv"
    path.write_text(text)
    with pytest.raises(ValueError) as err:
        read_table(str(path))
    assert str(err.value) == message.format(p=path)


def test_a_file_without_a_header_row_is_refused_unless_header_false(tmp_path):
    # read with its first row as names, it would lose that row and name columns after its numbers
    path = write(tmp_path, "0.5,1.5,0\n2.5,3.5,1\n4.5,0.5,1\n")
    with pytest.raises(ValueError, match=r"the first row \(0.5,1.5,0\) holds numbers where the column names should be; "
                                         r"pass --no-header \(header=False in Python\)"):
        load_csv(path)
    ds = load_csv(path, header=False)
    assert ds.X.tolist() == [[0.5, 1.5], [2.5, 3.5], [4.5, 0.5]] and ds.feature_names == ("col0", "col1")


def test_the_delimiter_is_sniffed_as_the_command_line_does(tmp_path):
    ds = load_csv(write(tmp_path, "a;b;y\n0.5;1;0\n1.5;0;1\n0.25;2;0\n", "semi.csv"))
    assert ds.X.tolist() == [[0.5, 1], [1.5, 0], [0.25, 2]] and ds.feature_names == ("a", "b")
    with pytest.raises(ValueError, match="delimiter must be one of"):
        load_csv(write(tmp_path, "a b\n1 2\n"), delimiter=" ")


@pytest.mark.parametrize("text, words", [
    ("id,a,y\n1,0.5,0\n2,0.1,1\n3,0.7,0\n", "column 'id' looks like a row number or ID"),
    ("a,k,y\n0.5,7,0\n0.1,7,1\n0.7,7,0\n", "1 of 2 feature columns hold the same value in every training row"),
    ("a,c,y\n0.5,0,0\n0.1,1,1\n0.7,0,0\n", "column 'c' equals the target 'y' in every training row"),
])
def test_unlikely_features_are_reported_and_can_be_dropped(tmp_path, text, words):
    path = write(tmp_path, text)
    with pytest.warns(ColumnWarning, match=words):
        load_csv(path)
    name = [n for n in text.split("\n")[0].split(",") if n not in ("a", "y")][0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ds = load_csv(path, drop=[name])
    assert ds.feature_names == ("a",) and ds.X[:, 0].tolist() == np.float32([0.5, 0.1, 0.7]).tolist()
    with pytest.raises(ValueError, match="drop names 'y', which is not a feature column"):
        load_csv(path, drop=["y"])
